/**
 * The proxy's resource-type table: LDS, RDS, CDS, EDS, SDS, each decoded from its
 * Any and compiled (listeners, route tables, cluster and endpoint plans) once,
 * when config arrives. Compilation errors are the validation errors, with
 * field paths, that become a NACK's error_detail.
 */
import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { TypeUrl } from '../../xds/type-urls.js';
import { compileListener, type ChainPlan, type ListenerPlan } from '../listener/listener-plan.js';
import { SecretSchema } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { compileSecret, type SecretPlan } from '../tls/secret.js';
import { compileRouteConfig, type RouteTable } from '../router/route-table.js';
import { clusterTlsPlans, compileCluster, compileEndpoints, type ClusterPlan, type EndpointsPlan } from '../upstream/cluster-plan.js';
import type { Decoded, Dependency, ResourceType } from './resource-type.js';
import { NameTableSchema } from '../../gen/networking/nds/v1/nds_pb.js';
import { checkNameTable, type NameInfo } from '../agent/dns/lookup-table.js';

function decodeWith<S extends DescMessage, T>(
  schema: S, any: Any, nameOf: (m: MessageShape<S>) => string,
  compile: (m: MessageShape<S>) => { ok: true; value: T } | { ok: false; errors: string[] },
): Decoded<T> {
  let msg: MessageShape<S>;
  try {
    msg = fromBinary(schema, any.value);
  } catch (err) {
    return { ok: false, name: '', errors: [`cannot decode ${schema.typeName}: ${(err as Error).message}`] };
  }
  const name = nameOf(msg);
  let r;
  try {
    r = compile(msg);
  } catch (err) {
    // A compiler that throws is a bug; NACKed, the control plane sees it, where a throw here left the
    // response neither ACKed nor NACKed. The fuzz target (test/fuzz/xds-proxy-validate.test.ts) looks for this text.
    return { ok: false, name, errors: [`${INTERNAL_ERROR}: ${(err as Error).message}`] };
  }
  return r.ok ? { ok: true, name, value: r.value } : { ok: false, name, errors: r.errors };
}

/** Marks a NACK caused by a compiler that threw: a Trellis bug, never the config's fault alone. */
export const INTERNAL_ERROR = 'internal error while validating (a Trellis bug)';

/** A dependency on resources of `typeUrl`: the union of the names each value references. */
function dependency<T>(typeUrl: string, namesOf: (value: T) => Iterable<string | undefined>): Dependency<T> {
  return {
    typeUrl,
    names(values) {
      const out = new Set<string>();
      for (const v of values) for (const n of namesOf(v)) if (n) out.add(n);
      return out;
    },
  };
}

const chainsOf = (p: ListenerPlan): ChainPlan[] => (p.defaultChain ? [...p.chains, p.defaultChain] : p.chains);

export const listenerType: ResourceType<ListenerPlan> = {
  typeUrl: TypeUrl.Listener,
  short: 'LDS',
  wildcard: true,
  decode: (any) => decodeWith(ListenerSchema, any, (m) => m.name, compileListener),
  dependencies: [
    dependency(TypeUrl.RouteConfiguration, (p) => chainsOf(p).map((c) => (c.network.kind === 'http' ? c.network.hcm.rdsName : undefined))),
    dependency(TypeUrl.Secret, (p) => chainsOf(p).flatMap((c) => c.tls?.sdsNames ?? [])),
  ],
};

export const routeType: ResourceType<RouteTable> = {
  typeUrl: TypeUrl.RouteConfiguration,
  short: 'RDS',
  wildcard: false,
  decode: (any) => decodeWith(RouteConfigurationSchema, any, (m) => m.name, (m) => {
    const r = compileRouteConfig(m);
    return r.ok ? { ok: true, value: r.table } : r;
  }),
};

export const clusterType: ResourceType<ClusterPlan> = {
  typeUrl: TypeUrl.Cluster,
  short: 'CDS',
  wildcard: true,
  decode: (any) => decodeWith(ClusterSchema, any, (m) => m.name, compileCluster),
  dependencies: [
    dependency(TypeUrl.ClusterLoadAssignment, (p) => [p.edsName]),
    dependency(TypeUrl.Secret, (p) => clusterTlsPlans(p).flatMap((t) => t.sdsNames)),
  ],
};

export const endpointType: ResourceType<EndpointsPlan> = {
  typeUrl: TypeUrl.ClusterLoadAssignment,
  short: 'EDS',
  wildcard: false,
  decode: (any) => decodeWith(ClusterLoadAssignmentSchema, any, (m) => m.clusterName, compileEndpoints),
};

export const secretType: ResourceType<SecretPlan> = {
  typeUrl: TypeUrl.Secret,
  short: 'SDS',
  wildcard: false,
  decode: (any) => decodeWith(SecretSchema, any, (m) => m.name, compileSecret),
};

/**
 * Istio's NDS, for the agent's DNS proxy: one unnamed NameTable (istiod sends
 * it without a name), held here under NAME_TABLE. Subscribed only when the
 * proxy captures DNS.
 */
export const NAME_TABLE = 'NameTable';

export const nameTableType: ResourceType<Readonly<Record<string, NameInfo>>> = {
  typeUrl: TypeUrl.NameTable,
  short: 'NDS',
  wildcard: true,
  decode: (any) => decodeWith(NameTableSchema, any, () => NAME_TABLE, (m) => {
    const errors = checkNameTable(m.table);
    return errors.length === 0 ? { ok: true, value: m.table } : { ok: false, errors };
  }),
};

/** Subscription order: clusters, endpoints and secrets before listeners and routes (make before break). */
export const proxyTypes: readonly ResourceType[] = [clusterType, endpointType, secretType, listenerType, routeType];
