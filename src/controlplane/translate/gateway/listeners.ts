/**
 * A router's listeners (istiod's buildGatewayListeners): one per merged
 * port, "BIND_PORT" (0.0.0.0 unless the server binds an address), bound to
 * the port itself — no capture, no original destination, no
 * virtualOutbound/virtualInbound. Plain-text HTTP ports have one chain with
 * the gateway HCM on "http.PORT"; TLS ports one chain per server, matched by
 * its SNI hosts: HTTPS servers terminate TLS into their own route
 * configuration, TLS servers terminate into VirtualService tcp routes, and
 * PASSTHROUGH servers proxy each VirtualService tls route's SNI hosts
 * unopened; TCP ports the first matching tcp route. Every chain carries the
 * gateway pod's request security (istiod's authn/authz builders for the
 * gateway class): jwt_authn and RBAC in each HCM, network RBAC before each
 * tcp_proxy.
 */
import { create } from '@bufbuild/protobuf';
import { TrafficDirection } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { FilterChainMatchSchema, FilterChainSchema, type Filter, type FilterChain } from '../../../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { HttpFilter } from '../../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { ListenerSchema, type Listener } from '../../../gen/envoy/config/listener/v3/listener_pb.js';
import type { TcpProxy } from '../../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { logger } from '../../../log.js';
import { socketAddress } from '../common.js';
import { gatewayHcm, hcmFilter, tcpProxyFilter } from '../hcm.js';
import { downstreamTransportSocket } from '../inbound-tls.js';
import { tlsInspectorListenerFilter } from '../listener-filters.js';
import { outboundListenerName } from '../names.js';
import { vsNamespace } from '../routes/hosts.js';
import type { RouteScope } from '../routes/index.js';
import { matchApplies } from '../routes/match.js';
import { tcpProxy } from '../routes/tcp.js';
import { serverRouteContext, virtualServicesForGateway, vsMatchesServer } from './bound.js';
import { sniHosts, type MergedGateway, type MergedPort, type ServerRef } from './merge.js';
import { serverTlsContext } from './server-tls.js';

const log = logger('translate');

/** The filters of the policies selecting the gateway pod: HTTP (jwt_authn, RBAC) and network (RBAC). */
export interface GatewaySecurity {
  readonly http: readonly HttpFilter[];
  readonly tcp: readonly Filter[];
}

const noSecurity: GatewaySecurity = { http: [], tcp: [] };

const terminates = (ref: ServerRef) => ref.server.tls !== undefined && ref.server.tls.mode !== undefined && ref.server.tls.mode !== 'PASSTHROUGH';

/** The first tcp route of the bound VirtualServices that applies to the server (istiod's buildGatewayNetworkFiltersFromTCPRoutes). */
function tcpRouteFor(scope: RouteScope, ref: ServerRef): TcpProxy | undefined {
  for (const vs of virtualServicesForGateway(scope.model, scope.namespace, ref.gateway)) {
    if (!vsMatchesServer(ref, vs, scope.model.domainSuffix)) continue;
    const ctx = serverRouteContext(scope, ref, vs);
    for (const r of vs.spec.tcp ?? []) {
      const applies = (r.match ?? []).length === 0 || r.match!.some((m) => matchApplies(m, ctx));
      if (applies && (r.route ?? []).length > 0) return tcpProxy(r.route!, ctx, `${ref.gateway}:${ref.server.port.number}`);
    }
  }
  return undefined;
}

/** PASSTHROUGH: a chain per tls route match, on its SNI hosts; a name already claimed on the listener is skipped (Envoy refuses equal matches). */
function passthroughChains(scope: RouteScope, ref: ServerRef, claimed: Set<string>, sec: GatewaySecurity): FilterChain[] {
  const out: FilterChain[] = [];
  for (const vs of virtualServicesForGateway(scope.model, scope.namespace, ref.gateway)) {
    if (!vsMatchesServer(ref, vs, scope.model.domainSuffix)) continue;
    const ctx = serverRouteContext(scope, ref, vs);
    for (const r of vs.spec.tls ?? []) {
      if ((r.route ?? []).length === 0) continue;
      for (const m of r.match) {
        if (!matchApplies(m, ctx)) continue;
        if (m.sniHosts.some((h) => claimed.has(h))) {
          log.warn('VirtualService tls route skipped: duplicate SNI hosts on the gateway port', { vs: `${vsNamespace(vs)}/${vs.metadata.name}`, gateway: ref.gateway });
          continue;
        }
        for (const h of m.sniHosts) claimed.add(h);
        const serverNames = [...m.sniHosts].sort();
        out.push(create(FilterChainSchema, { filterChainMatch: create(FilterChainMatchSchema, { serverNames }), filters: [...sec.tcp, tcpProxyFilter(tcpProxy(r.route!, ctx, ref.gateway))] }));
      }
    }
  }
  return out;
}

/** SNI match of a terminating server: its hosts, none when one of them is "*" (istiod's toFilterChainMatch). */
function sniMatch(ref: ServerRef) {
  const names = sniHosts(ref);
  return create(FilterChainMatchSchema, { serverNames: names.includes('*') ? [] : names });
}

function tlsPortChains(scope: RouteScope, p: MergedPort, statPrefix: string, sec: GatewaySecurity): FilterChain[] {
  const chains: FilterChain[] = [];
  const claimed = new Set<string>();
  for (const ref of p.servers) {
    if (!terminates(ref)) {
      chains.push(...passthroughChains(scope, ref, claimed, sec));
      continue;
    }
    const http = ref.routeName !== undefined;
    const transportSocket = downstreamTransportSocket(serverTlsContext(ref.server.tls!, http));
    if (http) {
      const hcm = gatewayHcm(ref.server.name || statPrefix, ref.routeName!, sec.http);
      chains.push(create(FilterChainSchema, { filterChainMatch: sniMatch(ref), transportSocket, filters: [hcmFilter(hcm)] }));
      continue;
    }
    const tcp = tcpRouteFor(scope, ref);
    if (tcp) chains.push(create(FilterChainSchema, { filterChainMatch: sniMatch(ref), transportSocket, filters: [...sec.tcp, tcpProxyFilter(tcp)] }));
    else log.warn('gateway listener missed network filter', { gateway: ref.gateway, port: p.port });
  }
  return chains;
}

function plainPortChains(scope: RouteScope, p: MergedPort, statPrefix: string, sec: GatewaySecurity): FilterChain[] {
  const first = p.servers[0]!;
  if (first.routeName !== undefined) return [create(FilterChainSchema, { filters: [hcmFilter(gatewayHcm(statPrefix, first.routeName, sec.http))] })];
  // A TCP port: the first server with a tcp route (one protocol, one chain).
  for (const ref of p.servers) {
    const tcp = tcpRouteFor(scope, ref);
    if (tcp) return [create(FilterChainSchema, { filters: [...sec.tcp, tcpProxyFilter(tcp)] })];
  }
  log.warn('gateway listener missed network filter', { gateway: first.gateway, port: p.port });
  return [];
}

/** The listeners of a merged gateway; a port without any chain gets no listener (Envoy would refuse it). */
export function gatewayListeners(scope: RouteScope, merged: MergedGateway, sec: GatewaySecurity = noSecurity): Listener[] {
  const out: Listener[] = [];
  for (const p of merged.ports) {
    const address = p.bind || '0.0.0.0';
    const name = outboundListenerName(address, p.port);
    const statPrefix = `outbound_${name}`;
    const chains = p.plain ? plainPortChains(scope, p, statPrefix, sec) : tlsPortChains(scope, p, statPrefix, sec);
    if (chains.length === 0) continue;
    const sni = chains.some((c) => (c.filterChainMatch?.serverNames.length ?? 0) > 0 || c.transportSocket !== undefined);
    out.push(create(ListenerSchema, {
      name,
      address: socketAddress(address, p.port),
      trafficDirection: TrafficDirection.OUTBOUND,
      listenerFilters: sni ? [tlsInspectorListenerFilter()] : [],
      filterChains: chains,
    }));
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
