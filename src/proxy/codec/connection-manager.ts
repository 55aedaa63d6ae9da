/**
 * HTTP connection manager for one filter chain (Envoy's HCM): takes the
 * connections the listener hands it on the HTTP/1.1 codec (h1/) or HTTP/2
 * (h2-server.ts), and turns each request into a stream: what the access log
 * records of it, XFCC and x-request-id (the manager's own header work, before
 * any filter), the route lookup on the current RDS table, then the HTTP
 * filters in order, the router last (filters/chain.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { decodeHeaders } from '../filters/chain.js';
import type { HttpFilter } from '../filters/filter.js';
import { createFilters } from '../filters/http-filters.js';
import type { OnDemandClusters } from '../filters/on-demand/on-demand-filter.js';
import { downstreamGone, newStream, recordRequest, streamClosed } from '../filters/stream.js';
import type { ConnContext } from '../listener/conn-context.js';
import { PEER_PRINCIPAL_KEY } from '../internal/filter-state.js';
import type { RequestView } from '../router/route-match.js';
import type { RouteTable } from '../router/route-table.js';
import type { ProxyStats } from '../telemetry/stats.js';
import type { TapHub } from '../tap/tap-hub.js';
import { StreamInfo } from '../telemetry/stream-info.js';
import { streamAlreadyClosed, type DownstreamRequest, type DownstreamResponse } from './downstream.js';
import { H1Server } from './h1/h1-server.js';
import { H2Server } from './h2-server.js';
import type { HcmPlan } from './hcm-plan.js';
import { admitUpgrade } from './upgrade-admission.js';
import { applyXfcc } from './xfcc.js';

/** What every connection manager shares (one set per proxy). */
export interface HttpDeps {
  /** The router filter, last in every filter list. */
  router: HttpFilter;
  /** On-demand cluster discovery, for envoy.filters.http.on_demand. */
  onDemand: OnDemandClusters;
  /** Current RDS tables by name; looked up per request so updates reach open connections. */
  routes: ReadonlyMap<string, RouteTable>;
  stats: ProxyStats;
  /** The admin API's tappers (/tap); while there are none a request costs one length check. */
  tap: TapHub;
}

export class ConnectionManager {
  readonly plan: HcmPlan;
  readonly #deps: HttpDeps;
  readonly #filters: readonly HttpFilter[];
  readonly #h1: H1Server;
  readonly #h2: H2Server;

  constructor(plan: HcmPlan, deps: HttpDeps) {
    this.plan = plan;
    this.#deps = deps;
    this.#filters = createFilters(plan.filters, { router: deps.router, counters: deps.stats, clusters: deps.onDemand });
    const onRequest = (req: DownstreamRequest, res: DownstreamResponse, conn: ConnContext) => this.#onRequest(req, res, conn);
    this.#h1 = new H1Server(onRequest, {
      idleMs: plan.streamIdleTimeoutMs,
      headersMs: plan.requestHeadersTimeoutMs,
      maxHeadBytes: plan.limits.maxRequestHeadersBytes,
    }, (status, details, conn) => this.#onCodecError(status, details, conn));
    // Envoy's counter for connections closed by its premature reset check.
    const abusive = `http.${plan.statPrefix}.downstream_rq_too_many_premature_resets`;
    this.#h2 = new H2Server(onRequest, plan.streamIdleTimeoutMs, plan.limits, () => deps.stats.inc(abusive));
  }

  /** Takes ownership of a socket whose first bytes (already unshifted) were detected as `protocol`. */
  accept(socket: Socket, protocol: 'h1' | 'h2', conn: ConnContext): void {
    const useH2 = this.plan.codec === 'http2' || (this.plan.codec === 'auto' && protocol === 'h2');
    conn.codec = useH2 ? this.#h2.accept(socket, conn) : this.#h1.accept(socket, conn);
  }

  #onRequest(req: DownstreamRequest, res: DownstreamResponse, conn: ConnContext): void {
    const plan = this.plan;
    const info = new StreamInfo();
    const h = req.headers;
    const url = req.url ?? '/';
    info.method = req.method ?? '';
    info.path = url;
    info.authority = (h[':authority'] as string | undefined) ?? (h.host as string | undefined) ?? '';
    // Constant strings for the common versions: no template string per request.
    info.protocol = req.httpVersionMajor === 2 ? 'HTTP/2' : req.httpVersionMinor === 1 ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`;
    info.requestHeaders = h;
    info.downstreamLocal = conn.local;
    info.downstreamRemote = conn.remote;
    info.requestedServerName = conn.serverName;
    if (conn.peerUriSan) info.downstreamPeerUriSan = conn.peerUriSan;
    const principal = conn.filterState?.get(PEER_PRINCIPAL_KEY);
    if (principal) info.peerPrincipal = principal.value;
    applyXfcc(plan.xfcc, h, conn);
    if (plan.generateRequestId && h['x-request-id'] === undefined) h['x-request-id'] = randomUUID();
    const table = plan.inline ?? (plan.rdsName !== undefined ? this.#deps.routes.get(plan.rdsName) : undefined);
    const q = url.indexOf('?');
    const view: RequestView = req.method === 'CONNECT' ? connectView(req, info, h) : { path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: h };
    const ex = newStream(req, res, plan, conn, info, this.#deps.stats, this.#filters, table?.route(info.authority, view, conn.tls !== undefined), view);
    res.on('close', () => streamClosed(ex)); // 'close' fires once; on() skips once()'s wrapper allocation
    const tap = this.#deps.tap;
    if (tap.tappers.length !== 0) tap.start(ex);
    if (streamAlreadyClosed(res)) return downstreamGone(ex);
    // Two property reads for ordinary requests; only upgrades and CONNECT are looked at further.
    if ((h.upgrade !== undefined || req.method === 'CONNECT') && !admitUpgrade(ex)) return;
    decodeHeaders(ex);
  }

  /**
   * A request the HTTP/1.1 codec refused before it had headers: logged as Envoy does ("- - HTTP/1.1" 400 DPE
   * http1.codec_error), with no method, path or request id to show.
   */
  #onCodecError(status: number, details: string, conn: ConnContext): void {
    const info = new StreamInfo();
    info.responseCode = status;
    info.responseCodeDetails = details;
    info.addFlag('DPE');
    info.downstreamLocal = conn.local;
    info.downstreamRemote = conn.remote;
    info.requestedServerName = conn.serverName;
    if (conn.peerUriSan) info.downstreamPeerUriSan = conn.peerUriSan;
    info.finish();
    recordRequest(info, this.plan, this.#deps.stats, conn.inbound, false);
  }
}

/** A CONNECT has no path; on HTTP/1.1 its target (host:port) is its authority, as Envoy's codec makes it. */
function connectView(req: DownstreamRequest, info: StreamInfo, h: RequestView['headers']): RequestView {
  if (req.httpVersionMajor === 1 && req.url) info.authority = req.url;
  info.path = '';
  return { path: '', query: '', headers: h, connect: true };
}
