import { create, toJson, type JsonValue } from '@bufbuild/protobuf';
import { anyPack, timestampFromDate, type Any } from '@bufbuild/protobuf/wkt';
import { ConfigDumpSchema } from '../../gen/envoy/admin/v3/config_dump_pb.js';
import {
  ClientResourceStatus,
  ClustersConfigDumpSchema,
  ClustersConfigDump_DynamicClusterSchema,
  EndpointsConfigDumpSchema,
  EndpointsConfigDump_DynamicEndpointConfigSchema,
  ListenersConfigDumpSchema,
  ListenersConfigDump_DynamicListenerSchema,
  ListenersConfigDump_DynamicListenerStateSchema,
  RoutesConfigDumpSchema,
  RoutesConfigDump_DynamicRouteConfigSchema,
} from '../../gen/envoy/admin/v3/config_dump_shared_pb.js';
import { xdsRegistry } from '../../xds/registry.js';
import { TypeUrl } from '../../xds/type-urls.js';
import type { SyncSource, TypeSync } from '../server/sync-status.js';

/** Per resource: the Any, the version of the response that carried it, when, and whether the proxy ACKed. */
interface Entry {
  name: string;
  any: Any;
  versionInfo: string;
  lastUpdated: ReturnType<typeof timestampFromDate> | undefined;
  clientStatus: ClientResourceStatus;
}

function entries(t: TypeSync | undefined): Entry[] {
  if (!t?.sent) return [];
  const st = t.status();
  const clientStatus =
    st === 'SYNCED' ? ClientResourceStatus.ACKED : t.nack?.nonce === t.sent.nonce ? ClientResourceStatus.NACKED : ClientResourceStatus.REQUESTED;
  const lastUpdated = t.sentAt ? timestampFromDate(t.sentAt) : undefined;
  return [...t.resources.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((r) => ({ name: r.name, any: r.any, versionInfo: t.sent!.version, lastUpdated, clientStatus }));
}

/**
 * envoy.admin.v3.ConfigDump of what the server last SENT to one proxy (not
 * necessarily what it runs: see clientStatus), as Envoy's /config_dump
 * prints it: clusters, listeners, routes, endpoints.
 */
export function configDump(c: SyncSource): JsonValue {
  const cds = c.types.get(TypeUrl.Cluster);
  const lds = c.types.get(TypeUrl.Listener);
  const rds = c.types.get(TypeUrl.RouteConfiguration);
  const eds = c.types.get(TypeUrl.ClusterLoadAssignment);
  const clusters = create(ClustersConfigDumpSchema, {
    versionInfo: cds?.sent?.version ?? '',
    dynamicActiveClusters: entries(cds).map((e) =>
      create(ClustersConfigDump_DynamicClusterSchema, { versionInfo: e.versionInfo, cluster: e.any, lastUpdated: e.lastUpdated, clientStatus: e.clientStatus }),
    ),
  });
  const listeners = create(ListenersConfigDumpSchema, {
    versionInfo: lds?.sent?.version ?? '',
    dynamicListeners: entries(lds).map((e) =>
      create(ListenersConfigDump_DynamicListenerSchema, {
        name: e.name,
        activeState: create(ListenersConfigDump_DynamicListenerStateSchema, { versionInfo: e.versionInfo, listener: e.any, lastUpdated: e.lastUpdated }),
        clientStatus: e.clientStatus,
      }),
    ),
  });
  const routes = create(RoutesConfigDumpSchema, {
    dynamicRouteConfigs: entries(rds).map((e) =>
      create(RoutesConfigDump_DynamicRouteConfigSchema, { versionInfo: e.versionInfo, routeConfig: e.any, lastUpdated: e.lastUpdated, clientStatus: e.clientStatus }),
    ),
  });
  const endpoints = create(EndpointsConfigDumpSchema, {
    dynamicEndpointConfigs: entries(eds).map((e) =>
      create(EndpointsConfigDump_DynamicEndpointConfigSchema, { versionInfo: e.versionInfo, endpointConfig: e.any, lastUpdated: e.lastUpdated, clientStatus: e.clientStatus }),
    ),
  });
  const dump = create(ConfigDumpSchema, {
    configs: [
      anyPack(ClustersConfigDumpSchema, clusters),
      anyPack(ListenersConfigDumpSchema, listeners),
      anyPack(RoutesConfigDumpSchema, routes),
      anyPack(EndpointsConfigDumpSchema, endpoints),
    ],
  });
  return toJson(ConfigDumpSchema, dump, { registry: xdsRegistry });
}
