/** Envoy's /config_dump: the dynamic resources as applied, in ConfigDump JSON form. */
import { create, toJson } from '@bufbuild/protobuf';
import { anyPack, anyUnpack, timestampFromDate, type Any } from '@bufbuild/protobuf/wkt';
import { BootstrapConfigDumpSchema, ConfigDumpSchema, SecretsConfigDumpSchema } from '../../gen/envoy/admin/v3/config_dump_pb.js';
import { bootstrapOf, type BootstrapInputs } from './bootstrap.js';
import { SecretSchema } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  ClustersConfigDumpSchema,
  EndpointsConfigDumpSchema,
  ListenersConfigDumpSchema,
  ListenersConfigDump_DynamicListenerSchema,
  RoutesConfigDump_DynamicRouteConfigSchema,
  RoutesConfigDumpSchema,
  UpdateFailureStateSchema,
  type UpdateFailureState,
} from '../../gen/envoy/admin/v3/config_dump_shared_pb.js';
import { DataSourceSchema } from '../../gen/envoy/config/core/v3/base_pb.js';
import { xdsRegistry } from '../../xds/registry.js';
import { TypeUrl } from '../../xds/type-urls.js';
import type { XdsClient } from '../xds-client/ads-client.js';
import type { SecretPlan } from '../tls/secret.js';

function failure(xds: XdsClient, typeUrl: string): UpdateFailureState | undefined {
  const n = xds.state(typeUrl)?.lastNack;
  return n ? create(UpdateFailureStateSchema, { details: n.detail, lastUpdateAttempt: timestampFromDate(n.at) }) : undefined;
}

const REDACTED = { specifier: { case: 'inlineString' as const, value: '[redacted]' } };

/** A Secret as Envoy dumps it: certificates shown, private keys and passwords replaced by "[redacted]". */
function redacted(any: Any): Any {
  const s = anyUnpack(any, SecretSchema);
  if (!s) return any;
  if (s.type.case === 'tlsCertificate') {
    const c = s.type.value;
    if (c.privateKey) c.privateKey = create(DataSourceSchema, REDACTED);
    if (c.password) c.password = create(DataSourceSchema, REDACTED);
  } else if (s.type.case === 'genericSecret' && s.type.value.secret) s.type.value.secret = create(DataSourceSchema, REDACTED);
  return anyPack(SecretSchema, s);
}

/**
 * The agent's secrets (Istio's sds-grpc: the workload certificate, the mesh
 * roots) as Envoy would show them after istio-agent served them over SDS.
 */
function agentSecret(p: SecretPlan) {
  const inline = (value: string) => create(DataSourceSchema, { specifier: { case: 'inlineString', value } });
  const secret = p.kind === 'certificate'
    ? create(SecretSchema, { name: p.name, type: { case: 'tlsCertificate', value: { certificateChain: inline(p.chain), privateKey: create(DataSourceSchema, REDACTED) } } })
    : create(SecretSchema, { name: p.name, type: { case: 'validationContext', value: { trustedCa: inline(p.ca) } } });
  return { name: p.name, secret: anyPack(SecretSchema, secret) };
}

export function configDump(xds: XdsClient, includeEds: boolean, bootstrap?: BootstrapInputs, inForce: readonly SecretPlan[] = []): unknown {
  const res = (t: string) => [...xds.resources(t).values()].sort((a, b) => a.name.localeCompare(b.name));
  const sotwVersion = (t: string) => xds.state(t)?.version ?? '';
  const listeners = create(ListenersConfigDumpSchema, {
    versionInfo: sotwVersion(TypeUrl.Listener),
    dynamicListeners: res(TypeUrl.Listener).map((r) => ({
      name: r.name,
      activeState: { versionInfo: r.version, listener: r.raw, lastUpdated: timestampFromDate(r.lastUpdated) },
    })),
  });
  const ldsFail = failure(xds, TypeUrl.Listener);
  if (ldsFail) listeners.dynamicListeners.push(create(ListenersConfigDump_DynamicListenerSchema, { errorState: ldsFail }));
  const clusters = create(ClustersConfigDumpSchema, {
    versionInfo: sotwVersion(TypeUrl.Cluster),
    dynamicActiveClusters: res(TypeUrl.Cluster).map((r) => ({ versionInfo: r.version, cluster: r.raw, lastUpdated: timestampFromDate(r.lastUpdated) })),
  });
  const routes = create(RoutesConfigDumpSchema, {
    dynamicRouteConfigs: res(TypeUrl.RouteConfiguration).map((r) => ({ versionInfo: r.version, routeConfig: r.raw, lastUpdated: timestampFromDate(r.lastUpdated) })),
  });
  const rdsFail = failure(xds, TypeUrl.RouteConfiguration);
  if (rdsFail) routes.dynamicRouteConfigs.push(create(RoutesConfigDump_DynamicRouteConfigSchema, { errorState: rdsFail }));
  const adsSecrets = res(TypeUrl.Secret);
  const fromAgent = inForce.filter((p) => !adsSecrets.some((r) => r.name === p.name)).map(agentSecret);
  const secrets = create(SecretsConfigDumpSchema, {
    dynamicActiveSecrets: [
      ...adsSecrets.map((r) => ({ name: r.name, versionInfo: r.version, lastUpdated: timestampFromDate(r.lastUpdated), secret: redacted(r.raw) })),
      ...fromAgent,
    ].sort((a, b) => a.name.localeCompare(b.name)),
  });
  // Envoy's order: bootstrap, clusters, listeners, scoped routes, routes, secrets (endpoints with include_eds).
  const configs = [
    ...(bootstrap ? [anyPack(BootstrapConfigDumpSchema, create(BootstrapConfigDumpSchema, { bootstrap: bootstrapOf(bootstrap) }))] : []),
    anyPack(ClustersConfigDumpSchema, clusters),
    anyPack(ListenersConfigDumpSchema, listeners),
    anyPack(RoutesConfigDumpSchema, routes),
    anyPack(SecretsConfigDumpSchema, secrets),
  ];
  if (includeEds) {
    const eps = create(EndpointsConfigDumpSchema, {
      dynamicEndpointConfigs: res(TypeUrl.ClusterLoadAssignment).map((r) => ({ versionInfo: r.version, endpointConfig: r.raw, lastUpdated: timestampFromDate(r.lastUpdated) })),
    });
    configs.push(anyPack(EndpointsConfigDumpSchema, eps));
  }
  return toJson(ConfigDumpSchema, create(ConfigDumpSchema, { configs }), { registry: xdsRegistry });
}
