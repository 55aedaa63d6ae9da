/**
 * A request through the connection manager: XFCC, the HTTP filters in their
 * listed order (RBAC, fault injection), then the router — virtual host and
 * route lookup on the precompiled table, local replies (NR, NC, direct
 * responses, redirects), hand-off to the upstream forwarder. Ends every
 * request exactly once, with statistics and access log.
 */
import { randomUUID } from 'node:crypto';
import type { Http2ServerResponse } from 'node:http2';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { StreamInfo } from '../telemetry/stream-info.js';
import type { ProxyStats } from '../telemetry/stats.js';
import { fnv1a } from '../util.js';
import { closeIfDraining, LOCAL_BODY, type Exchange } from '../filters/stream.js';
import type { ConnContext } from '../listener/conn-context.js';
import type { DownstreamRequest, DownstreamResponse } from '../codec/downstream.js';
import type { HcmPlan } from '../codec/hcm-plan.js';
import type { ActionPlan, ClusterTarget } from './route-action.js';
import type { CompiledRoute, RouteTable } from './route-table.js';
import { hit, type FaultPlan } from '../filters/fault/fault-plan.js';
import type { RequestView } from './route-match.js';
import { forward } from './forward.js';
import { requestHash } from './request-hash.js';
import { applyXfcc } from '../codec/xfcc.js';
import { decide } from '../filters/rbac/rbac-filter.js';
import { httpInput, type RbacInput } from '../filters/rbac/rbac-input.js';

/** Envoy's RBAC filter's local reply body. */
const RBAC_DENIED = 'RBAC: access denied';

/** HTTP → gRPC status for local replies (Envoy's Grpc::Utility::httpToGrpcStatus); anything else is UNKNOWN (2). */
const GRPC_STATUS: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };

/**
 * gRPC's percent-encoding of grpc-message (Envoy's PercentEncoding::encode): only bytes outside
 * printable ASCII and '%' itself; encodeURIComponent also turned ':' into "%3A", which clients show as is.
 */
function grpcMessage(m: string): string {
  return m.replace(/[^\x20-\x24\x26-\x7e]+/g, (c) => Buffer.from(c).toString('hex').toUpperCase().replace(/(..)/g, '%$1'));
}

function isGrpc(ex: Exchange): boolean {
  const ct = ex.req.headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

export interface RouterDeps {
  clusters: ClusterManager;
  /** Current RDS tables by name; looked up per request so updates reach open connections. */
  routes: ReadonlyMap<string, RouteTable>;
  stats: ProxyStats;
}

export class Router {
  readonly #deps: RouterDeps;

  constructor(deps: RouterDeps) {
    this.#deps = deps;
  }

  handle(req: DownstreamRequest, res: DownstreamResponse, plan: HcmPlan, conn: ConnContext): void {
    const info = new StreamInfo();
    const h = req.headers;
    const url = req.url ?? '/';
    info.method = req.method ?? '';
    info.path = url;
    info.authority = (h[':authority'] as string | undefined) ?? h.host ?? '';
    // Constant strings for the common versions: no template string per request.
    info.protocol = req.httpVersionMajor === 2 ? 'HTTP/2' : req.httpVersionMinor === 1 ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`;
    info.requestHeaders = h;
    info.downstreamLocal = conn.local;
    info.downstreamRemote = conn.remote;
    info.requestedServerName = conn.serverName;
    if (conn.peerUriSan) info.downstreamPeerUriSan = conn.peerUriSan;
    // The connection manager's own header work comes before any filter (Envoy: mutateRequestHeaders).
    applyXfcc(plan.xfcc, h, conn);
    if (plan.generateRequestId && h['x-request-id'] === undefined) h['x-request-id'] = randomUUID();
    const ex: Exchange = { req, res, plan, conn, info, cluster: undefined, clusterRequestOps: [], clusterResponseOps: [], downstreamGone: false, finished: false, abortUpstream: undefined, hash: undefined, routeTimer: undefined, routeTimedOut: false };
    res.on('close', () => this.#onClose(ex)); // 'close' fires once; on() skips once()'s wrapper allocation

    const table = plan.inline ?? (plan.rdsName !== undefined ? this.#deps.routes.get(plan.rdsName) : undefined);
    const q = url.indexOf('?');
    const view: RequestView = { path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: h };
    // Looked up now (Envoy resolves the route lazily, for whichever filter asks first): filters see the same route.
    const route = table?.route(info.authority, view);
    this.#decode(ex, route, view, 0);
  }

  /**
   * The HTTP filters in their listed order from `from` on, then the router. A filter ends the
   * request with a local reply, or continues (a fault delay continues later, unless the client left).
   */
  #decode(ex: Exchange, route: CompiledRoute | undefined, view: RequestView, from: number): void {
    const stages = ex.plan.stages;
    let input: RbacInput | undefined;
    for (let i = from; i < stages.length; i++) {
      const s = stages[i];
      if (s.kind === 'rbac') {
        const v = decide(s.rbac, (input ??= httpInput(ex.req, ex.conn, view)), this.#deps.stats);
        if (!v.allowed) return this.localReply(ex, 403, undefined, v.detail, RBAC_DENIED);
        continue;
      }
      const f = route?.fault;
      if (!f || !f.headers.every((m) => m(view))) continue;
      const abort = hit(f.abortPpm);
      if (hit(f.delayPpm) && f.delayMs > 0) {
        ex.info.addFlag('DI');
        setTimeout(() => (ex.downstreamGone ? this.finish(ex) : abort ? this.#faultAbort(ex, f) : this.#decode(ex, route, view, i + 1)), f.delayMs);
        return;
      }
      if (abort) return this.#faultAbort(ex, f);
    }
    this.#dispatch(ex, route, view);
  }

  /** The router filter: no route (NR), a direct response, a redirect, or upstream. */
  #dispatch(ex: Exchange, route: CompiledRoute | undefined, view: RequestView): void {
    const info = ex.info;
    if (!route) return this.localReply(ex, 404, 'NR', 'route_not_found');
    info.routeName = route.name;
    const a = route.action;
    if (a.kind === 'direct') {
      info.responseCodeDetails = 'direct_response';
      return this.#reply(ex, a.status, a.body);
    }
    if (a.kind === 'redirect') {
      const location = `${a.scheme || 'http'}://${a.host || info.authority}${a.path || view.path}`;
      ex.res.setHeader('location', location);
      return this.#reply(ex, a.status, '');
    }
    this.#route(ex, route, a);
  }

  /** Cluster choice, circuit breaker admission, then the upstream forwarder. */
  #route(ex: Exchange, route: CompiledRoute, a: Extract<ActionPlan, { kind: 'forward' }>): void {
    const name = this.#pickCluster(ex, a.target, ex.req.headers['x-request-id'] as string | undefined);
    const cluster = name ? this.#deps.clusters.get(name) : undefined;
    ex.info.upstreamCluster = name ?? '';
    if (!cluster) return this.localReply(ex, 503, 'NC', 'cluster_not_found');
    if (!cluster.admit()) {
      cluster.stats.upstream_rq_pending_overflow++;
      return this.localReply(ex, 503, 'UO', 'overflow');
    }
    ex.cluster = cluster;
    if (cluster.plan.istioServices.length > 0) ex.info.destinationService = cluster.plan.istioServices[0]!;
    if (a.hashPolicy.length > 0 && cluster.plan.lb === 'ring_hash') ex.hash = requestHash(ex, a.hashPolicy);
    forward(ex, route, a, this, this.#deps.clusters);
  }

  #faultAbort(ex: Exchange, f: FaultPlan): void {
    if (f.abortGrpcStatus !== undefined && ex.req.httpVersionMajor === 2 && isGrpc(ex)) {
      ex.info.addFlag('FI');
      ex.info.responseCodeDetails = 'fault_filter_abort';
      return this.#grpcReply(ex, f.abortGrpcStatus, LOCAL_BODY.FI);
    }
    this.localReply(ex, f.abortStatus ?? 503, 'FI', 'fault_filter_abort');
  }

  /** Weighted choice from one random value per request, derived from its x-request-id. */
  #pickCluster(ex: Exchange, t: ClusterTarget, requestId: string | undefined): string | undefined {
    if (t.kind === 'single') return t.name;
    if (t.kind === 'header') {
      const v = ex.req.headers[t.header];
      return typeof v === 'string' ? v : undefined;
    }
    const r = (requestId ? fnv1a(requestId) : Math.floor(Math.random() * 0xffffffff)) % t.total;
    for (const c of t.clusters) {
      if (r < c.upTo) {
        ex.clusterRequestOps = c.requestOps;
        ex.clusterResponseOps = c.responseOps;
        return c.name;
      }
    }
    return undefined;
  }

  /** An Envoy-generated response with its response flag (NR, UH, UF, UO, UT, ...) or, without one, `text` as its body. */
  localReply(ex: Exchange, status: number, flag: string | undefined, details: string, text = ''): void {
    if (flag) ex.info.addFlag(flag);
    ex.info.responseCodeDetails = details;
    if (ex.res.headersSent) {
      // Too late for a status: reset the stream, as Envoy does.
      ex.res.destroy();
      this.finish(ex);
      return;
    }
    const body = flag ? LOCAL_BODY[flag] ?? '' : text;
    if (ex.req.httpVersionMajor === 2 && isGrpc(ex)) return this.#grpcReply(ex, GRPC_STATUS[status] ?? 2, body || details);
    this.#reply(ex, status, body);
  }

  /** gRPC clients get a trailers-only response: HTTP 200 with grpc-status mapped from the HTTP status (Envoy's mapping). */
  #grpcReply(ex: Exchange, grpcStatus: number, message: string): void {
    ex.info.responseCode = 200;
    (ex.res as Http2ServerResponse).stream.respond({
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(grpcStatus),
      'grpc-message': grpcMessage(message),
    }, { endStream: true });
    this.finish(ex);
  }

  #reply(ex: Exchange, status: number, body: string): void {
    const res = ex.res;
    ex.info.responseCode = status;
    const len = Buffer.byteLength(body);
    ex.info.bytesSent = len;
    res.statusCode = status;
    if (len > 0) res.setHeader('content-type', 'text/plain');
    closeIfDraining(ex);
    res.setHeader('content-length', len);
    res.end(body);
    this.finish(ex);
  }

  #onClose(ex: Exchange): void {
    if (ex.finished) return;
    if (!ex.res.writableFinished) {
      ex.downstreamGone = true;
      ex.info.addFlag('DC');
      ex.abortUpstream?.();
      // Nothing is waiting on an upstream response any more (or nothing was sent): account for the request now.
      if (ex.info.responseCode !== 0 || !ex.abortUpstream) this.finish(ex);
    }
  }

  /** Stats, access log, circuit breaker release: exactly once per request. */
  finish(ex: Exchange): void {
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
    const stats = this.#deps.stats;
    stats.inc(ex.plan.statNames.total);
    stats.inc(ex.plan.statNames.byClass[Math.floor(info.responseCode / 100)] ?? ex.plan.statNames.byClass[0]);
    stats.recordHttp(info, ex.conn.inbound, isGrpc(ex));
    for (const log of ex.plan.accessLogs) log.write(log.format(info));
  }
}
