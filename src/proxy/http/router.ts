/**
 * The router: virtual host and route lookup on the precompiled table, local
 * replies (NR, NC, direct responses, redirects), then hand-off to the upstream
 * forwarder. Ends every request exactly once, with statistics and access log.
 */
import { randomUUID } from 'node:crypto';
import type { ClusterManager } from '../cluster/cluster-manager.js';
import { StreamInfo } from '../accesslog/stream-info.js';
import type { ProxyStats } from '../stats/stats.js';
import { fnv1a } from '../util.js';
import { closeIfDraining, LOCAL_BODY, type ConnContext, type DownstreamRequest, type DownstreamResponse, type Exchange } from './exchange.js';
import type { HcmPlan } from './hcm-plan.js';
import type { ClusterTarget } from './route-action.js';
import type { RouteTable } from './route-table.js';
import type { RequestView } from './route-match.js';
import { forward } from './forward.js';

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
    info.protocol = req.httpVersionMajor === 2 ? 'HTTP/2' : `HTTP/${req.httpVersion}`;
    info.requestHeaders = h;
    info.downstreamLocal = conn.local;
    info.downstreamRemote = conn.remote;
    info.requestedServerName = conn.serverName;
    if (plan.generateRequestId && h['x-request-id'] === undefined) h['x-request-id'] = randomUUID();
    const ex: Exchange = { req, res, plan, conn, info, cluster: undefined, clusterRequestOps: [], clusterResponseOps: [], downstreamGone: false, finished: false, abortUpstream: undefined };
    res.once('close', () => this.#onClose(ex));

    const table = plan.inline ?? (plan.rdsName !== undefined ? this.#deps.routes.get(plan.rdsName) : undefined);
    const q = url.indexOf('?');
    const view: RequestView = { path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: h };
    const route = table?.route(info.authority, view);
    if (!route) return this.localReply(ex, 404, 'NR', 'route_not_found');
    info.routeName = route.name;
    const a = route.action;
    if (a.kind === 'direct') {
      info.responseCodeDetails = 'direct_response';
      return this.#reply(ex, a.status, a.body);
    }
    if (a.kind === 'redirect') {
      const location = `${a.scheme || 'http'}://${a.host || info.authority}${a.path || view.path}`;
      res.setHeader('location', location);
      return this.#reply(ex, a.status, '');
    }
    const name = this.#pickCluster(ex, a.target, h['x-request-id'] as string | undefined);
    const cluster = name ? this.#deps.clusters.get(name) : undefined;
    info.upstreamCluster = name ?? '';
    if (!cluster) return this.localReply(ex, 503, 'NC', 'cluster_not_found');
    if (!cluster.admit()) {
      cluster.stats.upstream_rq_pending_overflow++;
      return this.localReply(ex, 503, 'UO', 'overflow');
    }
    ex.cluster = cluster;
    forward(ex, route, a, this);
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

  /** An Envoy-generated response with its response flag (NR, UH, UF, UO, UT, ...). */
  localReply(ex: Exchange, status: number, flag: string | undefined, details: string): void {
    if (flag) ex.info.addFlag(flag);
    ex.info.responseCodeDetails = details;
    if (ex.res.headersSent) {
      // Too late for a status: reset the stream, as Envoy does.
      ex.res.destroy();
      this.finish(ex);
      return;
    }
    this.#reply(ex, status, flag ? LOCAL_BODY[flag] ?? '' : '');
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
    const ct = ex.req.headers['content-type'];
    stats.recordHttp(info, ex.conn.inbound, typeof ct === 'string' && ct.startsWith('application/grpc'));
    for (const log of ex.plan.accessLogs) log.write(log.format(info));
  }
}
