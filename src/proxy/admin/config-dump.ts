/** Envoy's /config_dump: the dynamic resources as applied, in ConfigDump JSON form. */
import { create, toJson } from '@bufbuild/protobuf';
import { anyPack, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ConfigDumpSchema } from '../../gen/envoy/admin/v3/config_dump_pb.js';
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
import { xdsRegistry } from '../../xds/registry.js';
import { TypeUrl } from '../../xds/type-urls.js';
import type { XdsClient } from '../xds-client/ads-client.js';

function failure(xds: XdsClient, typeUrl: string): UpdateFailureState | undefined {
  const n = xds.state(typeUrl)?.lastNack;
  return n ? create(UpdateFailureStateSchema, { details: n.detail, lastUpdateAttempt: timestampFromDate(n.at) }) : undefined;
}

export function configDump(xds: XdsClient, includeEds: boolean): unknown {
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
  const configs = [
    anyPack(ClustersConfigDumpSchema, clusters),
    anyPack(ListenersConfigDumpSchema, listeners),
    anyPack(RoutesConfigDumpSchema, routes),
  ];
  if (includeEds) {
    const eps = create(EndpointsConfigDumpSchema, {
      dynamicEndpointConfigs: res(TypeUrl.ClusterLoadAssignment).map((r) => ({ versionInfo: r.version, endpointConfig: r.raw, lastUpdated: timestampFromDate(r.lastUpdated) })),
    });
    configs.push(anyPack(EndpointsConfigDumpSchema, eps));
  }
  return toJson(ConfigDumpSchema, create(ConfigDumpSchema, { configs }), { registry: xdsRegistry });
}
