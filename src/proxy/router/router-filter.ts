/**
 * The router, the last HTTP filter (envoy.filters.http.router): the route the
 * connection manager looked up decides — none (404 NR), a direct response, a
 * redirect, or a cluster (weighted, or named by a header) whose circuit
 * breaker admits the request (else 503 UO; no such cluster: 503 NC); then the
 * request goes upstream (forward.ts). It always stops the chain.
 */
import { STOP, type FilterStatus, type HttpFilter } from '../filters/filter.js';
import { localReply, reply } from '../filters/local-reply.js';
import type { HttpStream } from '../filters/stream.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { fnv1a } from '../util.js';
import { forward } from './forward.js';
import { requestHash } from './request-hash.js';
import type { ActionPlan, ClusterTarget, WeightedTarget } from './route-action.js';
import type { CompiledRoute } from './route-table.js';

export class RouterFilter implements HttpFilter {
  readonly name = 'envoy.filters.http.router';
  readonly #clusters: ClusterManager;

  constructor(clusters: ClusterManager) {
    this.#clusters = clusters;
  }

  decodeHeaders(ex: HttpStream): FilterStatus {
    const info = ex.info;
    const route = ex.route;
    if (!route) {
      localReply(ex, 404, 'NR', 'route_not_found');
      return STOP;
    }
    info.routeName = route.name;
    const a = route.action;
    if (a.kind === 'direct') {
      info.responseCodeDetails = 'direct_response';
      reply(ex, a.status, a.body);
    } else if (a.kind === 'redirect') {
      // Without a path rewrite Envoy keeps the request's path and query.
      // port_redirect replaces the port of the (redirected) host.
      const host = a.host || info.authority;
      reply(ex, a.status, '', `${a.scheme || 'http'}://${a.port ? `${host.replace(/:\d+$/, '')}:${a.port}` : host}${a.path || info.path}`);
    } else this.#upstream(ex, route, a);
    return STOP;
  }

  /** Cluster choice, circuit breaker admission, then the upstream request. */
  #upstream(ex: HttpStream, route: CompiledRoute, a: Extract<ActionPlan, { kind: 'forward' }>): void {
    const name = pickCluster(ex, a.target, ex.req.headers['x-request-id'] as string | undefined);
    const cluster = name ? this.#clusters.get(name) : undefined;
    ex.info.upstreamCluster = name ?? '';
    if (!cluster) return localReply(ex, a.clusterNotFoundStatus, 'NC', 'cluster_not_found');
    if (!cluster.admit()) {
      cluster.stats.upstream_rq_pending_overflow++;
      return localReply(ex, 503, 'UO', 'upstream_reset_before_response_started{overflow}');
    }
    ex.cluster = cluster;
    if (cluster.plan.istioServices.length > 0) ex.info.destinationService = cluster.plan.istioServices[0]!;
    if (a.hashPolicy.length > 0 && cluster.plan.lb === 'ring_hash') ex.hash = requestHash(ex, a.hashPolicy);
    forward(ex, route, a, this.#clusters);
  }
}

/** Weighted choice from one random value per request, derived from its x-request-id. */
function pickCluster(ex: HttpStream, t: ClusterTarget, requestId: string | undefined): string | undefined {
  const header = t.kind === 'header' ? ex.req.headers[t.header] : undefined;
  const p = pickTarget(t, requestId, typeof header === 'string' ? header : undefined);
  if (p?.weighted) {
    ex.clusterRequestOps = p.weighted.requestOps;
    ex.clusterResponseOps = p.weighted.responseOps;
  }
  return p?.name;
}

/**
 * The cluster a route sends one request to, as the router will pick it (the same x-request-id, the same
 * header): what Envoy resolves with the route, so a filter's local reply names it too (fault aborts).
 */
export function routeClusterName(route: CompiledRoute | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const a = route?.action;
  if (a?.kind !== 'forward') return undefined;
  const t = a.target;
  const id = headers['x-request-id'];
  const header = t.kind === 'header' ? headers[t.header] : undefined;
  return pickTarget(t, typeof id === 'string' ? id : undefined, typeof header === 'string' ? header : undefined)?.name;
}

export interface TargetPick {
  name: string;
  /** The weighted cluster chosen, with its index among the route's weighted_clusters. */
  weighted?: WeightedTarget;
  index?: number;
  /** The value in [0, total) that decided a weighted pick. */
  draw?: number;
}

/**
 * The cluster a route's target names for one request, without the request:
 * `requestId` decides a weighted pick (FNV-1a of it, modulo the total
 * weight), `headerValue` a cluster_header. Pure, so `trellis explain`
 * predicts the very pick the router makes for the same x-request-id.
 */
export function pickTarget(t: ClusterTarget, requestId: string | undefined, headerValue?: string): TargetPick | undefined {
  if (t.kind === 'single') return { name: t.name };
  if (t.kind === 'header') return headerValue === undefined ? undefined : { name: headerValue };
  const draw = (requestId ? fnv1a(requestId) : Math.floor(Math.random() * 0xffffffff)) % t.total;
  const index = t.clusters.findIndex((c) => draw < c.upTo);
  const c = t.clusters[index];
  return c ? { name: c.name, weighted: c, index, draw } : undefined;
}
