/**
 * Sends a routed request upstream: endpoint choice, the route timeout, retries
 * with Envoy's conditions and back-off, response header mutations, then
 * streams the response back with back-pressure.
 */
import type { Readable } from 'node:stream';
import { Abort } from '../upstream/abort.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { mirror } from './mirror.js';
import type { BodySink, UpstreamResponse } from '../upstream/response.js';
import type { Host } from '../upstream/host.js';
import { closeIfDraining, type Exchange } from '../filters/stream.js';
import { applyHeaderOps, type HeaderOp, type Headers } from './header-ops.js';
import { propagateTrace } from './trace-context.js';
import type { ActionPlan, RetryPlan } from './route-action.js';
import type { CompiledRoute } from './route-table.js';
import type { Router } from './router-filter.js';
import { classifyError, retriable, type AttemptOutcome } from './retry.js';

type Forward = Extract<ActionPlan, { kind: 'forward' }>;

/** Connection-level headers never forwarded (RFC 9110 §7.6.1), plus HTTP/2 pseudo-headers. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);
/** Envoy buffers request bodies up to this size so a retry can resend them. */
const RETRY_BUFFER_LIMIT = 1 << 20;

export function forward(ex: Exchange, route: CompiledRoute, a: Forward, router: Router, clusters: ClusterManager): void {
  const headers = upstreamHeaders(ex, route, a);
  const path = rewritePath(ex.info.path, a, headers);
  void run(ex, a, router, headers, path, route.responseOps, clusters).catch((err: unknown) => {
    ex.info.responseCodeDetails = `internal_error: ${String(err)}`;
    router.localReply(ex, 500, undefined, 'internal_error');
  });
}

function upstreamHeaders(ex: Exchange, route: CompiledRoute, a: Forward): Headers {
  const src = ex.req.headers;
  const out: Headers = {};
  for (const k in src) {
    if (k.charCodeAt(0) === 58 /* : */ || HOP.has(k)) continue;
    out[k] = src[k];
  }
  // gRPC needs "te: trailers"; it is the one TE value a proxy may pass on.
  if (src.te === 'trailers') out.te = 'trailers';
  out.host = a.hostRewrite ?? ex.info.authority;
  out['x-forwarded-proto'] ??= 'http';
  propagateTrace(out);
  if (ex.clusterRequestOps.length > 0) applyHeaderOps(out, ex.clusterRequestOps);
  if (route.requestOps.length > 0) applyHeaderOps(out, route.requestOps);
  return out;
}

function rewritePath(path: string, a: Forward, headers: Headers): string {
  if (a.regexRewrite) {
    const q = path.indexOf('?');
    const p = q < 0 ? path : path.slice(0, q);
    headers['x-envoy-original-path'] = path;
    return p.replace(a.regexRewrite.re, a.regexRewrite.substitution) + (q < 0 ? '' : path.slice(q));
  }
  if (!a.prefixRewrite || a.matchedPrefix === undefined || !path.startsWith(a.matchedPrefix)) return path;
  headers['x-envoy-original-path'] = path;
  return a.prefixRewrite + path.slice(a.matchedPrefix.length);
}

function hasBody(ex: Exchange): boolean {
  const h = ex.req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  if (cl !== undefined) return cl !== '0';
  return ex.req.httpVersionMajor === 2 && !(ex.req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders;
}

async function readBody(ex: Exchange): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ex.req as AsyncIterable<Buffer>) {
    chunks.push(c);
    size += c.length;
    if (size > RETRY_BUFFER_LIMIT) throw new Error('request body exceeds the retry buffer');
  }
  return Buffer.concat(chunks);
}

async function run(
  ex: Exchange, a: Forward, router: Router, headers: Headers, path: string, responseOps: readonly HeaderOp[], clusters: ClusterManager,
): Promise<void> {
  const retry = a.retry;
  const cluster = ex.cluster!;
  const withBody = hasBody(ex);
  // Retries and mirrors need the body again: buffer it; otherwise stream it through.
  const buffered = withBody && ((retry && retry.numRetries > 0) || a.mirrors.length > 0) ? await readBody(ex) : undefined;
  if (a.mirrors.length > 0) mirror(ex, a.mirrors, clusters, headers, path, buffered);
  const info = ex.info;
  if (buffered) info.bytesReceived = buffered.length;
  else if (withBody) info.bytesReceived = Number(ex.req.headers['content-length'] ?? 0);
  const global = new Abort();
  let globalTimedOut = false;
  // Handed over to the response once its headers are in: the timeout covers the body too, as Envoy's does.
  let handedOff = false;
  const timer = a.timeoutMs > 0 ? setTimeout(() => {
    globalTimedOut = true;
    ex.routeTimedOut = true;
    if (handedOff) cluster.stats.upstream_rq_timeout++;
    global.abort();
  }, a.timeoutMs) : undefined;
  ex.abortUpstream = () => global.abort();
  const max = retry ? retry.numRetries : 0;
  try {
    for (let attempt = 0; attempt <= max; attempt++) {
      const host = cluster.pick(ex.conn.originalDst, ex.hash);
      if (!host) {
        cluster.stats.upstream_cx_none_healthy++;
        return router.localReply(ex, 503, 'UH', 'no_healthy_upstream');
      }
      info.upstreamHost = host.key;
      const body = buffered ?? (withBody ? (ex.req as NodeJS.ReadableStream) : undefined);
      const outcome = await attemptOnce(ex, host, path, headers, body, retry, global);
      if (ex.downstreamGone) {
        if (outcome.kind === 'response') outcome.data.body.destroy();
        return router.finish(ex);
      }
      if (globalTimedOut && outcome.kind !== 'response') {
        cluster.stats.upstream_rq_timeout++;
        return router.localReply(ex, 504, 'UT', 'upstream_response_timeout');
      }
      const canRetry = retry !== undefined && retriable(retry, outcome) && (buffered !== undefined || !withBody);
      if (canRetry && attempt < max) {
        if (cluster.admitRetry()) {
          cluster.stats.upstream_rq_retry++;
          if (outcome.kind === 'response') outcome.data.discard();
          await backoff(retry!, attempt);
          cluster.retriesActive--;
          if (!globalTimedOut && !ex.downstreamGone) continue;
          if (ex.downstreamGone) return router.finish(ex);
          cluster.stats.upstream_rq_timeout++;
          return router.localReply(ex, 504, 'UT', 'upstream_response_timeout');
        }
        cluster.stats.upstream_rq_retry_overflow++;
      }
      if (canRetry && max > 0) info.addFlag('URX');
      if (outcome.kind === 'response' && timer !== undefined) {
        handedOff = true;
        ex.routeTimer = timer;
      } else clearTimeout(timer);
      return respond(ex, outcome, router, responseOps);
    }
  } finally {
    if (!handedOff) clearTimeout(timer);
  }
}

async function attemptOnce(
  ex: Exchange, host: Host, path: string, headers: Headers, body: Buffer | NodeJS.ReadableStream | undefined,
  retry: RetryPlan | undefined, global: Abort,
): Promise<AttemptOutcome> {
  // Only a per-try timeout needs a signal of its own; otherwise the request's signal serves.
  const perTry = retry !== undefined && retry.perTryTimeoutMs > 0;
  const ac = perTry ? new Abort() : global;
  const onGlobal = () => ac.abort();
  if (perTry) global.once('abort', onGlobal);
  let perTryTimedOut = false;
  const t = perTry ? setTimeout(() => { perTryTimedOut = true; ac.abort(); }, retry.perTryTimeoutMs) : undefined;
  const started = performance.now();
  host.active++;
  host.rqTotal++;
  try {
    const up = ex.cluster!.plan.upstreamHttp;
    const h2 = up === 'http2' || (up === 'downstream' && ex.req.httpVersionMajor === 2);
    const data = h2 ? await host.h2.request({ path, method: ex.req.method ?? 'GET', headers, body: body as Buffer | Readable | undefined, signal: ac }) : await h1Request(host, path, ex.req.method ?? 'GET', headers, body, ac);
    ex.info.upstreamServiceTimeMs = Math.round(performance.now() - started);
    if (ex.cluster!.plan.outlier) ex.cluster!.report(host, data.statusCode);
    return { kind: 'response', data, host };
  } catch (err) {
    host.rqError++;
    const reason = perTryTimedOut ? 'per-try-timeout' : global.aborted ? 'aborted' : classifyError(err);
    if (reason === 'connect-failure') {
      host.cxConnectFail++;
      ex.cluster!.stats.upstream_cx_connect_fail++;
    } else if (reason === 'reset') ex.cluster!.stats.upstream_rq_rx_reset++;
    else if (reason === 'per-try-timeout') ex.cluster!.stats.upstream_rq_timeout++;
    if (reason !== 'aborted' && ex.cluster!.plan.outlier) ex.cluster!.report(host, 'local-failure');
    return { kind: 'error', reason, error: err };
  } finally {
    if (perTry) {
      clearTimeout(t);
      global.off('abort', onGlobal);
    }
    host.active--;
  }
}

function h1Request(host: Host, path: string, method: string, headers: Headers, body: Buffer | NodeJS.ReadableStream | undefined, signal: Abort): Promise<UpstreamResponse> {
  return host.exchange({ path, method, headers, body: body as Buffer | AsyncIterable<Buffer> | undefined }, signal);
}

function backoff(r: RetryPlan, attempt: number): Promise<void> {
  // Envoy: fully jittered, uniform in [0, base·2^attempt), capped at max_interval.
  const ceiling = Math.min(r.maxMs, r.baseMs * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * ceiling)));
}

function respond(ex: Exchange, o: AttemptOutcome, router: Router, responseOps: readonly HeaderOp[]): void {
  if (o.kind === 'error') {
    if (o.reason === 'per-try-timeout') return router.localReply(ex, 504, 'UT', 'upstream_per_try_timeout');
    if (o.reason === 'connect-failure') return router.localReply(ex, 503, 'UF', 'upstream_reset_before_response_started{connection_failure}');
    return router.localReply(ex, 503, 'UR', 'upstream_reset_before_response_started{connection_termination}');
  }
  const { statusCode, headers, body } = o.data;
  // A copy without hop-by-hop headers: `delete` would turn the object into a slow dictionary for every later step.
  const out: Headers = {};
  for (const k in headers) if (!HOP.has(k)) out[k] = headers[k];
  out['x-envoy-upstream-service-time'] = String(ex.info.upstreamServiceTimeMs ?? 0);
  if (ex.clusterResponseOps.length > 0) applyHeaderOps(out, ex.clusterResponseOps);
  if (responseOps.length > 0) applyHeaderOps(out, responseOps);
  ex.info.responseCode = statusCode;
  ex.info.responseHeaders = out;
  ex.info.responseCodeDetails = 'via_upstream';
  const res = ex.res;
  if (ex.req.httpVersionMajor === 2 && o.data.headersOnly === true) {
    // A gRPC "trailers-only" response: one HEADERS frame that ends the stream, passed on as such.
    (res as import('node:http2').Http2ServerResponse).stream.respond({ ...out, ':status': statusCode } as import('node:http2').OutgoingHttpHeaders, { endStream: true });
    o.data.discard();
    return router.finish(ex);
  }
  closeIfDraining(ex);
  try {
    (res as import('node:http').ServerResponse).writeHead(statusCode, out as import('node:http').OutgoingHttpHeaders);
  } catch (err) {
    body.destroy();
    return router.localReply(ex, 502, 'UPE', `invalid_upstream_headers: ${String(err)}`);
  }
  ex.abortUpstream = () => body.destroy();
  (res as NodeJS.WritableStream).once('finish', () => router.finish(ex));
  body.start(new Relay(ex, o.data, res as NodeJS.WritableStream, router));
}

/**
 * Streams the upstream body downstream with back-pressure, counting bytes:
 * one object per response instead of pipe()'s listener set on both streams
 * (pipeline() would add an AbortController). A downstream that goes away is
 * handled by ex.abortUpstream (the router's 'close').
 */
class Relay implements BodySink {
  readonly #ex: Exchange;
  readonly #up: UpstreamResponse;
  readonly #res: NodeJS.WritableStream;
  readonly #router: Router;
  #onDrain: (() => void) | undefined;

  constructor(ex: Exchange, up: UpstreamResponse, res: NodeJS.WritableStream, router: Router) {
    this.#ex = ex;
    this.#up = up;
    this.#res = res;
    this.#router = router;
  }

  data(c: Buffer): void {
    this.#ex.info.bytesSent += c.length;
    if (!this.#res.write(c)) {
      const body = this.#up.body;
      body.pause();
      this.#res.once('drain', (this.#onDrain ??= () => body.resume()));
    }
  }

  end(): void {
    if (this.#ex.req.httpVersionMajor === 2) {
      // gRPC status travels in trailers; the clients fill them in before the body ends.
      const t = this.#up.trailers();
      if (t && Object.keys(t).length > 0) (this.#res as unknown as import('node:http2').Http2ServerResponse).addTrailers(t as import('node:http').OutgoingHttpHeaders);
    }
    this.#res.end();
  }

  error(): void {
    const ex = this.#ex;
    if (!ex.downstreamGone) ex.info.addFlag(ex.routeTimedOut ? 'UT' : 'UR');
    (this.#res as unknown as { destroy(): void }).destroy();
    this.#router.finish(ex);
  }
}
