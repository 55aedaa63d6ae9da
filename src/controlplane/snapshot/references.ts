/**
 * The names one xDS resource makes Envoy resolve elsewhere: a listener's
 * route configurations (HttpConnectionManager rds) and clusters (tcp_proxy,
 * inline route configs), a route configuration's clusters (route actions,
 * weighted clusters, mirrors), an EDS cluster's load assignment. Read from
 * the resource's bytes and memoised per XdsResource: resources are shared by
 * every proxy (and scope) that receives them, so each is read once per push.
 *
 * Decoded here rather than through XdsResource.message, which would keep the
 * decoded message alive as long as the resource (what wire/resource.ts
 * avoids on purpose).
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_DiscoveryType } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { HttpConnectionManagerSchema } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema, type TcpProxy } from '../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { XdsResource } from '../wire/resource.js';

/**
 * A cluster named by a route or a TCP proxy. `tolerated`: Envoy accepts the
 * config while the cluster is missing and fails only the requests that reach
 * it — an RDS route configuration (validate_clusters false, the default over
 * RDS) or a tcp_proxy; an inline route configuration validates its clusters
 * by default, and Envoy rejects the whole listener.
 */
export interface ClusterRef {
  readonly cluster: string;
  readonly tolerated: boolean;
}

export interface ListenerRefs {
  /** Route configuration names the listener's connection managers ask RDS for. */
  readonly routes: readonly string[];
  readonly clusters: readonly ClusterRef[];
}

export interface RouteConfigRefs {
  readonly clusters: readonly ClusterRef[];
  /** Its virtual hosts' names ("HOST:PORT" for a service's), the destinations it knows. */
  readonly hosts: readonly string[];
}

const hcmType = `type.googleapis.com/${HttpConnectionManagerSchema.typeName}`;
const tcpProxyType = `type.googleapis.com/${TcpProxySchema.typeName}`;

const listenerMemo = new WeakMap<XdsResource, ListenerRefs>();
const routeMemo = new WeakMap<XdsResource, RouteConfigRefs>();
const edsMemo = new WeakMap<XdsResource, string | null>();

export function listenerRefs(r: XdsResource): ListenerRefs {
  let hit = listenerMemo.get(r);
  if (hit === undefined) listenerMemo.set(r, (hit = readListener(r.any.value)));
  return hit;
}

export function routeConfigRefs(r: XdsResource): RouteConfigRefs {
  let hit = routeMemo.get(r);
  if (hit === undefined) routeMemo.set(r, (hit = readRouteConfig(fromBinary(RouteConfigurationSchema, r.any.value), true)));
  return hit;
}

/** The load assignment name an EDS cluster asks for (eds_cluster_config.service_name, else its own name); undefined for other clusters. */
export function edsServiceName(r: XdsResource): string | undefined {
  let hit = edsMemo.get(r);
  if (hit === undefined) {
    const c = fromBinary(ClusterSchema, r.any.value);
    const eds = c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS;
    edsMemo.set(r, (hit = eds ? c.edsClusterConfig?.serviceName || c.name : null));
  }
  return hit ?? undefined;
}

function readListener(bytes: Uint8Array): ListenerRefs {
  const l = fromBinary(ListenerSchema, bytes);
  const routes: string[] = [];
  const clusters: ClusterRef[] = [];
  const chains: FilterChain[] = l.defaultFilterChain ? [...l.filterChains, l.defaultFilterChain] : l.filterChains;
  const configs: Any[] = [];
  for (const fc of chains) for (const f of fc.filters) if (f.configType.case === 'typedConfig') configs.push(f.configType.value);
  // Proxyless gRPC: the connection manager is the API listener itself.
  if (l.apiListener?.apiListener) configs.push(l.apiListener.apiListener);
  for (const any of configs) {
    if (any.typeUrl === tcpProxyType) clusters.push(...tcpClusters(fromBinary(TcpProxySchema, any.value)));
    if (any.typeUrl !== hcmType) continue;
    const rs = fromBinary(HttpConnectionManagerSchema, any.value).routeSpecifier;
    if (rs.case === 'rds') routes.push(rs.value.routeConfigName);
    else if (rs.case === 'routeConfig') clusters.push(...readRouteConfig(rs.value, false).clusters);
  }
  return { routes, clusters };
}

function tcpClusters(t: TcpProxy): ClusterRef[] {
  const c = t.clusterSpecifier;
  if (c.case === 'cluster') return [{ cluster: c.value, tolerated: true }];
  if (c.case === 'weightedClusters') return c.value.clusters.map((w) => ({ cluster: w.name, tolerated: true }));
  return [];
}

/** `viaRds`: validate_clusters defaults to false for RDS, true for a route configuration inside a listener. */
function readRouteConfig(rc: RouteConfiguration, viaRds: boolean): RouteConfigRefs {
  const tolerated = !(rc.validateClusters ?? !viaRds);
  const names = new Set<string>();
  for (const vh of rc.virtualHosts) {
    for (const route of vh.routes) {
      if (route.action.case !== 'route') continue;
      const a = route.action.value;
      if (a.clusterSpecifier.case === 'cluster') names.add(a.clusterSpecifier.value);
      else if (a.clusterSpecifier.case === 'weightedClusters') for (const w of a.clusterSpecifier.value.clusters) names.add(w.name);
      for (const m of a.requestMirrorPolicies) if (m.cluster) names.add(m.cluster);
    }
  }
  return { clusters: [...names].map((cluster) => ({ cluster, tolerated })), hosts: rc.virtualHosts.map((vh) => vh.name) };
}
