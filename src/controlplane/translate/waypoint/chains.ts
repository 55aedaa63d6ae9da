/**
 * A waypoint's main_internal listener (istiod's buildWaypointInternal): one
 * filter chain per port of each service it serves, matched on the service's
 * VIP and port (the destination connect_terminate restored), running the
 * sidecar's L7 stack — the VirtualService routes of that service and the
 * AuthorizationPolicies attached to the waypoint or the service — towards the
 * inbound-vip clusters.
 *
 * istiod selects these chains with a filter_chain_matcher (the xDS matcher
 * API); Trellis writes the same selection as classic filter_chain_match
 * (prefix_ranges + destination_port), which Envoy evaluates alike and which
 * the proxy already implements.
 */
import { create } from '@bufbuild/protobuf';
import { CidrRangeSchema } from '../../../gen/envoy/config/core/v3/address_pb.js';
import { TrafficDirection } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { FilterChainMatchSchema, FilterChainSchema, type FilterChain } from '../../../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Listener } from '../../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import type { MeshService, MeshServicePort } from '../../registry/model.js';
import type { AuthzFilters } from '../authz/builder.js';
import { hcmFilter, sidecarHcm, tcpProxyFilter, tcpProxyTo } from '../hcm.js';
import { InboundChainName } from '../inbound.js';
import { BlackHoleCluster } from '../names.js';
import { inboundVipClusterName, MainInternal } from '../hbone/names.js';
import { internalListener } from '../hbone/listeners.js';
import { portKind } from '../listeners.js';
import { serviceRoutes, type RouteScope } from '../routes/index.js';
import type { RouteBuilders } from '../scope-resources.js';
import { renameRoute, renameTcpProxy, toInboundVip } from './rename.js';

export interface ServedService {
  svc: MeshService;
  /** Routes are read as from the service's own namespace (istiod: VirtualServices of the service's or the waypoint's namespace). */
  scope: RouteScope;
  security: AuthzFilters;
}

function vipMatch(vip: string, port: number) {
  const v6 = vip.includes(':');
  return create(FilterChainMatchSchema, { prefixRanges: [create(CidrRangeSchema, { addressPrefix: vip, prefixLen: v6 ? 128 : 32 })], destinationPort: port });
}

function httpChain(s: ServedService, port: number, served: ReadonlySet<string>): FilterChain {
  const name = inboundVipClusterName(port, 'http', undefined, s.svc.hostname);
  const rename = toInboundVip(served, 'http');
  const routes = serviceRoutes(s.scope, s.svc, port, false).map((r) => renameRoute(r, rename));
  const route = create(RouteConfigurationSchema, {
    name,
    virtualHosts: [create(VirtualHostSchema, { name: `inbound|http|${port}`, domains: ['*'], routes })],
    validateClusters: false,
  });
  const hcm = sidecarHcm(name, { inline: route }, true);
  hcm.httpFilters = [...s.security.http, ...hcm.httpFilters];
  return create(FilterChainSchema, { name, filterChainMatch: vipMatch(s.svc.vip!, port), filters: [hcmFilter(hcm)] });
}

function tcpChain(s: ServedService, port: number, served: ReadonlySet<string>, routes: RouteBuilders): FilterChain {
  const name = inboundVipClusterName(port, 'tcp', undefined, s.svc.hostname);
  const tcp = renameTcpProxy(routes.tcp(s.scope, s.svc, port), toInboundVip(served, 'tcp'));
  tcp.statPrefix = name;
  return create(FilterChainSchema, { name, filterChainMatch: vipMatch(s.svc.vip!, port), filters: [...s.security.tcp, tcpProxyFilter(tcp)] });
}

/** What kinds of chain and cluster a port gets (istiod: UNKNOWN is sniffed; Trellis translates it as TCP, as for sidecars). */
export function vipKinds(p: MeshServicePort): ('http' | 'tcp')[] {
  const k = portKind(p);
  return k === 'none' ? [] : [k];
}

export function waypointMainInternal(services: readonly ServedService[], routes: RouteBuilders): Listener {
  const served = new Set(services.map((s) => s.svc.hostname));
  const chains: FilterChain[] = [];
  for (const s of services) {
    // A headless service has no VIP to be dispatched on (istiod skips it too).
    if (s.svc.vip === undefined) continue;
    for (const p of s.svc.ports) {
      for (const kind of vipKinds(p)) chains.push(kind === 'http' ? httpChain(s, p.port, served) : tcpChain(s, p.port, served, routes));
    }
  }
  // Envoy refuses a listener without filter chains: a waypoint serving nothing yet gets one that never matches (istiod's).
  if (chains.length === 0) chains.push(create(FilterChainSchema, { name: InboundChainName.blackhole, filters: [tcpProxyFilter(tcpProxyTo(BlackHoleCluster))] }));
  return internalListener(MainInternal, chains, TrafficDirection.INBOUND);
}
