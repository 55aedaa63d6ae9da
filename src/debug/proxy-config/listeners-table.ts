/**
 * istioctl proxy-config listeners: ADDRESSES, PORT, MATCH, DESTINATION, one
 * row per filter chain (the default chain included), listeners sorted by
 * port, address and type, a listener's chains by destination, descending.
 * MATCH says what selects the chain (SNI, transport, ALPN, destination
 * address and port, or ALL); DESTINATION where it goes (a route
 * configuration, a cluster, an inline route).
 */
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import type { Filter, FilterChain, FilterChainMatch } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { Row } from '../format/table.js';
import { clusterText, describeRouteConfig } from './route-text.js';

export interface ListenerFilter {
  address?: string;
  port?: number;
  type?: string;
}

export const LISTENERS_HEADER: Row = ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'];

const HCM = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
const BLACK_HOLE = 'BlackHoleCluster';

function chains(l: Listener): FilterChain[] {
  return l.defaultFilterChain ? [...l.filterChains, l.defaultFilterChain] : l.filterChains;
}

function typedConfig(f: Filter): Any | undefined {
  return f.configType.case === 'typedConfig' ? f.configType.value : undefined;
}

function tcpCluster(f: Filter): string | undefined {
  const any = typedConfig(f);
  const tcp = any && anyUnpack(any, TcpProxySchema);
  if (!tcp) return undefined;
  const c = tcp.clusterSpecifier;
  if (c.case === 'cluster') return c.value;
  // istioctl prints "Cluster: " for weighted TCP routes; the clusters themselves say more.
  return c.case === 'weightedClusters' ? c.value.clusters.map((w) => w.name).join(',') : '';
}

/** HTTP, TCP, HTTP+TCP or UNKNOWN, by the chains' filters (a TCP proxy to BlackHoleCluster does not count). */
export function listenerType(l: Listener): string {
  let http = 0;
  let tcp = 0;
  for (const fc of chains(l)) {
    for (const f of fc.filters) {
      if (f.name === HCM) http++;
      else if (f.name === TCP_PROXY && tcpCluster(f) !== BLACK_HOLE) tcp++;
    }
  }
  if (http > 0) return tcp === 0 ? 'HTTP' : 'HTTP+TCP';
  return tcp > 0 ? 'TCP' : 'UNKNOWN';
}

export function listenerAddress(l: Listener): string {
  const a = l.address?.address;
  return a?.case === 'socketAddress' ? a.value.address : a?.case === 'pipe' ? a.value.path : '';
}

export function listenerPort(l: Listener): number {
  const a = l.address?.address;
  return a?.case === 'socketAddress' && a.value.portSpecifier.case === 'portValue' ? a.value.portSpecifier.value : 0;
}

function allAddresses(l: Listener): string[] {
  const extra = l.additionalAddresses.map((x) => (x.address?.address.case === 'socketAddress' ? x.address.address.value.address : ''));
  return [listenerAddress(l), ...extra];
}

export function listenerMatches(f: ListenerFilter, l: Listener): boolean {
  if (f.address && !allAddresses(l).some((a) => a.toLowerCase() === f.address!.toLowerCase())) return false;
  if (f.port && listenerPort(l) !== f.port) return false;
  if (f.type && listenerType(l).toLowerCase() !== f.type.toLowerCase()) return false;
  return true;
}

const ALPN_NAMES: readonly [string, readonly string[]][] = [
  ['App: HTTP TLS', ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: Istio HTTP Plain', ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: TCP TLS', ['istio-peer-exchange', 'istio']],
  ['App: HTTP', ['http/1.0', 'http/1.1', 'h2c']],
];

/** What selects a filter chain, in istioctl's words; "ALL" when nothing does. */
export function describeChainMatch(m: FilterChainMatch | undefined): string {
  const out: string[] = [];
  if (m?.serverNames.length) out.push(`SNI: ${m.serverNames.join(',')}`);
  if (m?.transportProtocol) out.push(`Trans: ${m.transportProtocol}`);
  if (m?.applicationProtocols.length) {
    const alpn = m.applicationProtocols;
    const named = ALPN_NAMES.find(([, list]) => list.length === alpn.length && list.every((p, i) => p === alpn[i]));
    out.push(named ? named[0] : `App: ${alpn.join(',')}`);
  }
  const port = m?.destinationPort !== undefined ? `:${m.destinationPort}` : '';
  if (m?.prefixRanges.length) out.push(`Addr: ${m.prefixRanges.map((p) => `${p.addressPrefix}/${p.prefixLen ?? 0}`).join(',')}${port}`);
  else if (port) out.push(`Addr: *${port}`);
  return out.length ? out.join('; ') : 'ALL';
}

/** Where a chain sends traffic: its first HTTP connection manager or TCP proxy (not to BlackHoleCluster). */
export function describeChainDestination(filters: readonly Filter[]): string {
  for (const f of filters) {
    if (f.name === HCM) {
      const any = typedConfig(f);
      const r = (any && anyUnpack(any, HttpConnectionManagerSchema))?.routeSpecifier;
      if (r?.case === 'routeConfig') return describeRouteConfig(r.value);
      if (r?.case === 'rds') return `Route: ${r.value.routeConfigName}`;
      return 'HTTP';
    }
    if (f.name === TCP_PROXY) {
      const cluster = tcpCluster(f);
      if (cluster !== BLACK_HOLE) return clusterText(cluster ?? '');
    }
  }
  return 'Non-HTTP/Non-TCP';
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

export function sortListeners(listeners: readonly Listener[]): Listener[] {
  return [...listeners].sort((a, b) =>
    cmp(listenerPort(a), listenerPort(b)) || cmp(listenerAddress(a), listenerAddress(b)) || cmp(listenerType(a), listenerType(b)));
}

/** One row per chain; with `named`, the "listener/NAME" column first (proxy-config all). */
export function listenerRows(listeners: readonly Listener[], f: ListenerFilter, named = false): Row[] {
  const rows: Row[] = [];
  for (const l of sortListeners(listeners.filter((x) => listenerMatches(f, x)))) {
    const addresses = allAddresses(l).join(',');
    const port = String(listenerPort(l));
    const matches = chains(l).map((fc) => ({ match: describeChainMatch(fc.filterChainMatch), destination: describeChainDestination(fc.filters) }));
    matches.sort((a, b) => cmp(b.destination, a.destination));
    for (const m of matches) rows.push([...(named ? [`listener/${l.name}`] : []), addresses, port, m.match, m.destination]);
  }
  return rows;
}
