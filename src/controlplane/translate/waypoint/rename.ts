/**
 * The sidecar's routes and TCP proxies, re-pointed for a waypoint: a
 * destination the waypoint serves goes to its inbound-vip cluster
 * (outbound|9080|v1|HOST → inbound-vip|9080|http/v1|HOST, istiod's
 * getWaypointDestinationCluster), any other stays outbound. Copies: the
 * route builders share their messages between proxies.
 */
import { clone } from '@bufbuild/protobuf';
import { RouteSchema, type Route } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import { TcpProxySchema, type TcpProxy } from '../../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { inboundVipClusterName } from '../hbone/names.js';
import { parseClusterName } from '../names.js';

export type Rename = (cluster: string) => string;

/** `served`: hostnames the waypoint serves; `kind`: the chain's (http routes name http clusters, TCP proxies tcp ones). */
export function toInboundVip(served: ReadonlySet<string>, kind: 'http' | 'tcp'): Rename {
  return (name) => {
    const c = parseClusterName(name);
    if (!c || c.direction !== 'outbound' || !served.has(c.hostname)) return name;
    return inboundVipClusterName(c.port, kind, c.subset || undefined, c.hostname);
  };
}

export function renameRoute(route: Route, rename: Rename): Route {
  if (route.action.case !== 'route') return route;
  const r = clone(RouteSchema, route);
  const a = r.action.value as NonNullable<Extract<Route['action'], { case: 'route' }>['value']>;
  if (a.clusterSpecifier.case === 'cluster') a.clusterSpecifier.value = rename(a.clusterSpecifier.value);
  else if (a.clusterSpecifier.case === 'weightedClusters') for (const w of a.clusterSpecifier.value.clusters) w.name = rename(w.name);
  for (const m of a.requestMirrorPolicies) m.cluster = rename(m.cluster);
  return r;
}

export function renameTcpProxy(tcp: TcpProxy, rename: Rename): TcpProxy {
  const t = clone(TcpProxySchema, tcp);
  if (t.clusterSpecifier.case === 'cluster') t.clusterSpecifier.value = rename(t.clusterSpecifier.value);
  else if (t.clusterSpecifier.case === 'weightedClusters') for (const w of t.clusterSpecifier.value.clusters) w.name = rename(w.name);
  return t;
}
