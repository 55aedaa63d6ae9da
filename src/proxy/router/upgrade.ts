/**
 * An upgrade request (websocket) upstream, as Envoy's router sends one: once,
 * to one host — no retries, no mirrors — over HTTP/1.1 with its Upgrade and
 * Connection headers. A 101 is relayed and the two connections become a
 * tunnel (tunnel.ts); any other answer is relayed as an ordinary response
 * (relay.ts). The route timeout does not apply: Envoy starts it when the
 * request ends, and an upgrade request's body is the tunnel. The HCM's
 * stream idle timeout bounds the wait for the answer (408 SI) and then the
 * tunnel.
 */
import { H1Response } from '../codec/h1/response.js';
import { encodeHeaders } from '../filters/chain.js';
import { localReply } from '../filters/local-reply.js';
import { finishStream, type HttpStream } from '../filters/stream.js';
import { Abort } from '../upstream/abort.js';
import type { UpstreamResponse } from '../upstream/response.js';
import { attempt } from './attempt.js';
import { respond } from './relay.js';
import { downstreamHeaders } from './response-headers.js';
import type { CompiledRoute } from './route-table.js';
import { connectFailureDetails } from '../upstream/errors.js';
import { connectUpstream } from '../upstream/tcp-connect.js';
import { Tunnel } from './tunnel.js';
import { h2Tunnel } from './h2-tunnel.js';
import { h2Response } from '../codec/downstream.js';
import { sharedWithUpstream } from '../internal/filter-state.js';
import { rewritePath, upstreamHeaders, type ForwardAction } from './upstream-headers.js';

const SWITCH_HEADERS = ['connection', 'upgrade'];

export async function forwardUpgrade(ex: HttpStream, route: CompiledRoute, a: ForwardAction): Promise<void> {
  const cluster = ex.cluster!;
  const info = ex.info;
  if (ex.upgrade === 'connect') {
    // Terminated here, the CONNECT's upstream is a raw connection: the cluster's HTTP protocol does not matter.
    if (a.upgrades?.terminateConnect) return terminateConnect(ex);
    // Proxying the CONNECT itself to an upstream that terminates it: not implemented (src/proxy/README.md).
    return localReply(ex, 503, undefined, 'connect_proxying_not_supported', 'CONNECT is only terminated here, not proxied');
  }
  if (!(ex.res instanceof H1Response) || cluster.plan.upstreamHttp === 'http2') {
    // Envoy would carry it as an extended CONNECT (RFC 8441) over HTTP/2; Trellis does not (src/proxy/README.md).
    return localReply(ex, 503, undefined, 'upgrade_over_http2_not_supported', 'upgrades over HTTP/2 are not supported');
  }
  const headers = upstreamHeaders(ex, route, a);
  headers.upgrade = ex.req.headers.upgrade;
  const path = rewritePath(info.path, a, headers);
  const host = cluster.pick(ex.conn.originalDst, ex.hash);
  if (!host) {
    cluster.stats.upstream_cx_none_healthy++;
    return localReply(ex, 503, 'UH', 'no_healthy_upstream');
  }
  info.upstreamHost = host.key;
  const abort = new Abort();
  ex.upstream = { cancel: () => abort.abort() };
  let idle = false;
  const idleMs = ex.plan.streamIdleTimeoutMs;
  const timer = idleMs > 0 ? setTimeout(() => { idle = true; abort.abort(); }, idleMs) : undefined;
  const outcome = await attempt(ex, host, path, headers, undefined, undefined, abort);
  clearTimeout(timer);
  if (ex.downstreamGone) {
    if (outcome.kind === 'response') drop(outcome.data);
    return finishStream(ex);
  }
  if (idle && outcome.kind !== 'response') return localReply(ex, 408, 'SI', 'stream_idle_timeout');
  if (outcome.kind === 'response' && outcome.data.switched) return switchProtocols(ex, outcome.data, route, idleMs);
  respond(ex, outcome, route.responseOps);
}

function drop(r: UpstreamResponse): void {
  if (r.switched) r.switched.socket.destroy();
  else r.body.destroy();
}

/** The 101 back to the client — its Connection and Upgrade kept, the response header operations applied — then the tunnel. */
function switchProtocols(ex: HttpStream, up: UpstreamResponse, route: CompiledRoute, idleMs: number): void {
  const switched = up.switched!;
  const out = downstreamHeaders(ex, up.headers, route.responseOps, SWITCH_HEADERS);
  encodeHeaders(ex, 101, out);
  const info = ex.info;
  info.responseCode = 101;
  info.responseHeaders = out;
  info.responseCodeDetails = 'via_upstream';
  let down;
  try {
    down = (ex.res as H1Response).switchProtocols(101, out);
  } catch {
    // Only a header operation's value could be refused here; the client cannot get a status any more.
    switched.socket.destroy();
    ex.res.destroy();
    info.addFlag('UPE');
    return finishStream(ex);
  }
  new Tunnel(ex, down, switched, idleMs);
}

/**
 * A CONNECT terminated here (the route's connect_config): a TCP connection to
 * the cluster's host, in its transport socket — or an in-process one when the
 * host is an internal listener, carrying the filter state the stream shares
 * with upstream; once it is up, 200 to the client and the tunnel (HTTP/1.1:
 * tunnel.ts, HTTP/2: h2-tunnel.ts). Envoy's answers when it cannot: UH, UF
 * (connect failure or timeout), always before any 200.
 */
function terminateConnect(ex: HttpStream): void {
  const res = ex.res;
  const cluster = ex.cluster!;
  const host = cluster.pick(ex.conn.originalDst, ex.hash, { metadata: [ex.conn.metadata] });
  if (!host) {
    cluster.stats.upstream_cx_none_healthy++;
    return localReply(ex, 503, 'UH', 'no_healthy_upstream');
  }
  ex.info.upstreamHost = host.key;
  const c = connectUpstream(host, cluster.plan.sourceAddress, sharedWithUpstream(ex.conn.filterState, ex.filterState));
  const failed = (err: unknown): void => {
    cluster.stats.upstream_cx_connect_fail++;
    localReply(ex, 503, 'UF', connectFailureDetails(err));
  };
  if (c instanceof Error) return failed(c);
  const up = c.socket;
  const timer = setTimeout(() => up.destroy(new Error('connect timeout')), cluster.plan.connectTimeoutMs);
  ex.upstream = { cancel: () => up.destroy() };
  let connectError: unknown;
  up.on('error', (err) => { connectError = err; });
  const beforeReady = (): void => {
    clearTimeout(timer);
    if (ex.downstreamGone) finishStream(ex);
    else failed(connectError);
  };
  up.once('close', beforeReady);
  up.once(c.ready, () => {
    clearTimeout(timer);
    up.off('close', beforeReady);
    if (ex.downstreamGone) {
      up.destroy();
      return finishStream(ex);
    }
    const h2 = h2Response(res);
    if (h2) return h2Tunnel(ex, h2, up);
    ex.info.responseCode = 200;
    ex.info.responseCodeDetails = 'via_upstream';
    const down = (res as H1Response).switchProtocols(200, {});
    new Tunnel(ex, down, { socket: up, rest: undefined }, ex.plan.streamIdleTimeoutMs);
  });
}