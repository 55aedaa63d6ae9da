/**
 * One request through a connection manager: the state every filter and the
 * router share (one object, no per-stage closures), and its end — counted,
 * logged and its circuit-breaker slot released exactly once, whether it was
 * answered by the upstream, by a local reply, or abandoned by the client.
 */
import { responseCompleted, type DownstreamRequest, type DownstreamResponse } from '../codec/downstream.js';
import { H1Response } from '../codec/h1/response.js';
import type { HcmPlan } from '../codec/hcm-plan.js';
import type { ConnContext } from '../listener/conn-context.js';
import type { HeaderOp } from '../router/header-ops.js';
import type { RequestView } from '../router/route-match.js';
import type { CompiledRoute } from '../router/route-table.js';
import type { StreamInfo } from '../telemetry/stream-info.js';
import type { ProxyStats } from '../telemetry/stats.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type { TappedStream } from '../tap/tap-hub.js';
import type { HttpFilter } from './filter.js';
import type { RbacInput } from './rbac/rbac-input.js';
import type { DynamicMetadata } from './rbac/metadata-match.js';
import type { FilterState } from '../internal/filter-state.js';

/** What is in flight upstream for a stream: cancelled when the client goes away. */
export interface UpstreamCancel {
  cancel(): void;
}

export interface HttpStream {
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly plan: HcmPlan;
  readonly conn: ConnContext;
  readonly info: StreamInfo;
  readonly stats: ProxyStats;
  /** The connection manager's filters, the router last, and the one the request is at. */
  readonly filters: readonly HttpFilter[];
  filterIndex: number;
  /** The route, looked up once before the filters run (Envoy resolves it for the first filter that asks): all see the same. */
  readonly route: CompiledRoute | undefined;
  /** Path, query and headers as route and RBAC matchers read them. */
  readonly view: RequestView;
  /** The request's Origin, when the route's CORS policy allows it: the CORS filter adds it to the response. */
  corsOrigin: string | undefined;
  /** The RBAC filters' view of the request, built by the first of them. */
  rbacInput: RbacInput | undefined;
  /** Dynamic metadata by filter name (jwt_authn's verified payloads); undefined until a filter writes some. */
  metadata: DynamicMetadata | undefined;
  cluster: UpstreamCluster | undefined;
  /** Weighted-cluster header ops, applied before the route's. */
  clusterRequestOps: readonly HeaderOp[];
  clusterResponseOps: readonly HeaderOp[];
  /** Consistent-hash key for ring hash clusters, from the route's hash policy. */
  hash: number | undefined;
  /** Set when the downstream went away before the response completed. */
  downstreamGone: boolean;
  finished: boolean;
  /** The upstream request in flight (the router's), cancelled when the downstream goes away. */
  upstream: UpstreamCancel | undefined;
  /** The route timeout, still running while the response body streams (Envoy's timeout spans the whole response). */
  routeTimer: NodeJS.Timeout | undefined;
  /** The route timeout fired: a reset after the headers is UT, not UR. */
  routeTimedOut: boolean;
  /** An allowed upgrade (lower-case type, "connect" for CONNECT): the router tunnels it (router/upgrade.ts). */
  upgrade: string | undefined;
  /** Set when a tapper selected the request (tap/tap-hub.ts): its response and end are tap events too. */
  tap: TappedStream | undefined;
  /** Filter state set by set_filter_state (shared ones travel to an internal upstream connection). */
  filterState: FilterState | undefined;
  /** A CONNECT tunnel on an HTTP/2 stream (router/h2-tunnel.ts) ends the stream itself once both sides closed. */
  tunnelled: boolean;
}

/** A new stream; every field set here so all streams share one shape. */
export function newStream(
  req: DownstreamRequest, res: DownstreamResponse, plan: HcmPlan, conn: ConnContext, info: StreamInfo, stats: ProxyStats,
  filters: readonly HttpFilter[], route: CompiledRoute | undefined, view: RequestView,
): HttpStream {
  return {
    req, res, plan, conn, info, stats, filters, filterIndex: 0, route, view, corsOrigin: undefined, rbacInput: undefined, metadata: undefined,
    cluster: undefined, clusterRequestOps: [], clusterResponseOps: [], hash: undefined,
    downstreamGone: false, finished: false, upstream: undefined, routeTimer: undefined, routeTimedOut: false, upgrade: undefined, tap: undefined,
    filterState: undefined, tunnelled: false,
  };
}

export function isGrpc(ex: HttpStream): boolean {
  const ct = ex.req.headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

/** The downstream response closed: if it did not finish, the client went away (DC) and the upstream side is cancelled. */
export function streamClosed(ex: HttpStream): void {
  if (ex.finished || ex.tunnelled || responseCompleted(ex.res)) return;
  downstreamGone(ex);
}

/**
 * The client is gone before its response completed (DC), or the codec refused the rest of the request
 * (DPE, its 400 already written): what is in flight upstream is cancelled.
 */
export function downstreamGone(ex: HttpStream): void {
  ex.downstreamGone = true;
  const protocolError = ex.res instanceof H1Response ? ex.res.protocolError : undefined;
  if (protocolError !== undefined) {
    ex.info.addFlag('DPE');
    ex.info.responseCode = 400;
    ex.info.responseCodeDetails = protocolError;
  } else {
    ex.info.addFlag('DC');
    // Envoy keeps details already set (an answer under way, via_upstream); else the disconnect is the reason.
    if (ex.info.responseCodeDetails === '') ex.info.responseCodeDetails = 'downstream_remote_disconnect';
  }
  const up = ex.upstream;
  up?.cancel();
  // Nothing is waiting on an upstream response any more (or nothing was sent): account for the request now.
  if (ex.info.responseCode !== 0 || !up) finishStream(ex);
}

/** Stats, access log, circuit breaker release: exactly once per request. */
export function finishStream(ex: HttpStream): void {
  if (ex.finished) return;
  ex.finished = true;
  if (ex.routeTimer) clearTimeout(ex.routeTimer);
  const info = ex.info;
  info.finish();
  if (ex.cluster) {
    ex.cluster.release();
    const s = ex.cluster.stats;
    s.upstream_rq_total++;
    const c = Math.floor(info.responseCode / 100);
    if (c === 2) s.upstream_rq_2xx++;
    else if (c === 3) s.upstream_rq_3xx++;
    else if (c === 4) s.upstream_rq_4xx++;
    else if (c === 5) s.upstream_rq_5xx++;
  }
  recordRequest(info, ex.plan, ex.stats, ex.conn.inbound, isGrpc(ex));
  if (ex.tap !== undefined) ex.tap.end();
}

/** A finished request in the HCM's counters, the Istio metrics and its access logs (also one the codec refused). */
export function recordRequest(info: StreamInfo, plan: HcmPlan, stats: ProxyStats, inbound: boolean, grpc: boolean): void {
  const names = plan.statNames;
  stats.inc(names.total);
  stats.inc(names.byClass[Math.floor(info.responseCode / 100)] ?? names.byClass[0]!);
  stats.recordHttp(info, inbound, grpc);
  for (const log of plan.accessLogs) log.write(log.format(info));
}
