/**
 * What a proxy's configuration says about one request, read from its
 * /config_dump (parsed: proxy-config/dump.ts) and /clusters: the cluster the
 * request went to (endpoints and their health, the Services behind it, the
 * DestinationRule and its circuit breaker), the route configuration the
 * listener used (its virtual hosts) and the route taken (the VirtualService
 * in `istio.config`, timeout, retries, fault). Pure; the proxy's own fault
 * compiler reads the fault, so `why` and the proxy cannot disagree on it.
 */
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Metadata } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import type { Route, VirtualHost } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import { HttpConnectionManagerSchema } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { compileFault } from '../../proxy/filters/fault/fault-plan.js';
import { compileRouteConfig } from '../../proxy/router/route-table.js';
import { durationMs } from '../../proxy/util.js';
import type { ProxyDump } from '../proxy-config/dump.js';
import { endpointsOf, type ClustersJson, type EndpointRow } from '../proxy-config/endpoints-table.js';
import { listenerAddress, listenerPort } from '../proxy-config/listeners-table.js';
import { describeMatch } from '../proxy-config/route-text.js';

const HCM = 'envoy.filters.network.http_connection_manager';
const FAULT = 'envoy.filters.http.fault';

export interface ClusterFacts {
  name: string;
  endpoints: EndpointRow[];
  healthy: number;
  /** The Services (or ServiceEntry hosts) the control plane built it for (`istio.services`). */
  services: { host: string; name?: string; namespace?: string }[];
  /** The DestinationRule behind it (`istio.config`), e.g. /apis/networking.istio.io/v1/namespaces/shop/destination-rule/backend. */
  config?: string;
  /** circuit_breakers.thresholds[0] as the proxy applies them. */
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
}

export interface RouteFacts {
  name: string;
  /** The VirtualService behind it (`istio.config`). */
  config?: string;
  timeoutMs?: number;
  retry?: { retryOn: string; numRetries: number; perTryTimeoutMs?: number };
  fault?: { abortStatus?: number; abortPercent: number; delayMs: number };
}

export interface RouteConfigFacts {
  name: string;
  virtualHosts: { name: string; domains: string[] }[];
  /** The virtual host the proxy's own lookup picks for the authority, with its routes' matches (istioctl's MATCH). */
  matched?: { name: string; routes: { name: string; match: string }[] };
}

function istioField(m: Metadata | undefined, key: string): unknown {
  const istio = m?.filterMetadata['istio'] as Record<string, unknown> | undefined;
  return istio?.[key];
}

export function clusterFacts(dump: ProxyDump, clusters: ClustersJson | undefined, name: string): ClusterFacts | undefined {
  const c: Cluster | undefined = dump.clusters.find((x) => x.name === name);
  const endpoints = clusters ? endpointsOf(clusters).filter((e) => e.cluster === name) : [];
  if (!c && endpoints.length === 0) return undefined;
  const services = istioField(c?.metadata, 'services');
  const config = istioField(c?.metadata, 'config');
  const t = c?.circuitBreakers?.thresholds[0];
  return {
    name,
    endpoints,
    healthy: endpoints.filter((e) => e.status === 'HEALTHY' && !e.outlierFailed).length,
    services: Array.isArray(services) ? (services as ClusterFacts['services']) : [],
    ...(typeof config === 'string' ? { config } : {}),
    ...(t?.maxConnections !== undefined ? { maxConnections: t.maxConnections } : {}),
    ...(t?.maxPendingRequests !== undefined ? { maxPendingRequests: t.maxPendingRequests } : {}),
    ...(t?.maxRequests !== undefined ? { maxRequests: t.maxRequests } : {}),
    ...(t?.maxRetries !== undefined ? { maxRetries: t.maxRetries } : {}),
  };
}

/** The route configuration a listener's HTTP connection manager names over RDS. */
export function rdsName(l: Listener): string | undefined {
  for (const fc of l.defaultFilterChain ? [...l.filterChains, l.defaultFilterChain] : l.filterChains) {
    for (const f of fc.filters) {
      if (f.name !== HCM || f.configType.case !== 'typedConfig') continue;
      const r = anyUnpack(f.configType.value, HttpConnectionManagerSchema)?.routeSpecifier;
      if (r?.case === 'rds') return r.value.routeConfigName;
    }
  }
  return undefined;
}

/** What the access log says of a request that routing looks at. */
export interface RequestKey {
  /** The listener address it came in on (HOST:PORT: %DOWNSTREAM_LOCAL_ADDRESS%). */
  local?: string;
  authority?: string;
  path?: string;
  /** %ROUTE_NAME%, when the route has one. */
  routeName?: string;
}

/**
 * The route configuration the request used and the route it took, as the proxy's own route table picks
 * them: the listener bound to the request's local address, else the wildcard one of its port (Istio names
 * outbound HTTP route configurations by port: the last resort); the virtual host for its authority; the
 * first route matching its path. Headers other than the authority are not in the log: a route that
 * matches on them is judged without them.
 */
export function requestRouting(dump: ProxyDump, k: RequestKey): { routeConfig?: RouteConfigFacts; route?: RouteFacts } {
  const i = k.local?.lastIndexOf(':') ?? -1;
  const ip = i > 0 ? k.local!.slice(0, i) : undefined;
  const port = i > 0 ? Number(k.local!.slice(i + 1)) : undefined;
  const onPort = dump.listeners.filter((l) => listenerPort(l) === port);
  const l = onPort.find((x) => listenerAddress(x) === ip) ?? onPort.find((x) => listenerAddress(x) === '0.0.0.0');
  const name = (l && rdsName(l)) ?? (port !== undefined ? String(port) : undefined);
  const rc = dump.routes.find((r) => r.name === name);
  const byName = k.routeName ? routeByName(dump, k.routeName) : undefined;
  if (!rc) return byName ? { route: byName } : {};
  const compiled = compileRouteConfig(rc);
  const authority = k.authority ?? '';
  const cvh = compiled.ok ? compiled.table.virtualHost(authority) : undefined;
  const vh = rc.virtualHosts.find((v) => v.name === cvh?.name);
  const routeConfig: RouteConfigFacts = {
    name: rc.name,
    virtualHosts: rc.virtualHosts.map((v) => ({ name: v.name, domains: [...v.domains] })),
    ...(vh ? { matched: { name: vh.name, routes: vh.routes.map((r) => ({ name: r.name, match: describeMatch(r.match) })) } } : {}),
  };
  const path = k.path ?? '/';
  const q = path.indexOf('?');
  const taken = compiled.ok ? compiled.table.route(authority, { path: q < 0 ? path : path.slice(0, q), query: q < 0 ? '' : path.slice(q + 1), headers: { host: authority } }) : undefined;
  const idx = taken && cvh ? cvh.routes.indexOf(taken) : -1;
  const route = vh && idx >= 0 ? describeRoute(vh.routes[idx]!, vh) : byName;
  return { routeConfig, ...(route ? { route } : {}) };
}

/** The route of that name (the access log's %ROUTE_NAME%), in any route configuration. */
function routeByName(dump: ProxyDump, routeName: string): RouteFacts | undefined {
  for (const rc of dump.routes) {
    for (const vh of rc.virtualHosts) {
      const r = vh.routes.find((x) => x.name === routeName);
      if (r) return describeRoute(r, vh);
    }
  }
  return undefined;
}

function describeRoute(r: Route, vh: VirtualHost): RouteFacts {
  const config = istioField(r.metadata, 'config');
  const a = r.action.case === 'route' ? r.action.value : undefined;
  const rp = a?.retryPolicy ?? vh.retryPolicy;
  const timeoutMs = durationMs(a?.timeout);
  const perTry = durationMs(rp?.perTryTimeout);
  const faultAny = r.typedPerFilterConfig[FAULT] ?? vh.typedPerFilterConfig[FAULT];
  const fault = compileFault(faultAny, 'fault', []);
  return {
    name: r.name,
    ...(typeof config === 'string' ? { config } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(rp ? { retry: { retryOn: rp.retryOn, numRetries: rp.numRetries ?? 1, ...(perTry !== undefined ? { perTryTimeoutMs: perTry } : {}) } } : {}),
    ...(fault ? { fault: { ...(fault.abortStatus !== undefined ? { abortStatus: fault.abortStatus } : {}), abortPercent: fault.abortPpm / 10_000, delayMs: fault.delayMs } } : {}),
  };
}

/** "VirtualService shop/backend" from an `istio.config` path; the path itself when it is not one. */
export function configObjectName(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const m = /\/namespaces\/([^/]+)\/([a-z-]+)\/([^/]+)$/.exec(path);
  if (!m) return path;
  const kind = m[2] === 'virtual-service' ? 'VirtualService' : m[2] === 'destination-rule' ? 'DestinationRule' : m[2]!;
  return `${kind} ${m[1]}/${m[3]}`;
}
