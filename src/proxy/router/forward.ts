/**
 * One routed request upstream, from the router filter to the response relay:
 * the request's headers and path (upstream-headers.ts), its body buffered
 * when retries or mirrors need it again (request-body.ts), mirrors
 * (mirror.ts), the route timeout (timeout.ts), then attempts (attempt.ts) on
 * hosts the cluster picks until one is the answer (retry.ts), which goes back
 * to the client (relay.ts). Failures end as local replies (filters/local-reply.ts);
 * nothing here calls back into the router.
 */
import type { DstSources } from '../upstream/original-dst-lb.js';
import { requestHasBody } from '../codec/downstream.js';
import { localReply } from '../filters/local-reply.js';
import { finishStream, type HttpStream, type UpstreamCancel } from '../filters/stream.js';
import { Abort } from '../upstream/abort.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { UpstreamBody } from '../upstream/response.js';
import { attempt, type RequestBody } from './attempt.js';
import { mirror } from './mirror.js';
import { respond } from './relay.js';
import { bufferBody } from './request-body.js';
import { backoff, retryAdmitted } from './retry.js';
import type { CompiledRoute } from './route-table.js';
import { forwardUpgrade } from './upgrade.js';
import { handOffRouteTimeout, startRouteTimeout, stopRouteTimeout, type TimedRequest } from './timeout.js';
import { rewritePath, upstreamHeaders, type ForwardAction } from './upstream-headers.js';

export function forward(ex: HttpStream, route: CompiledRoute, a: ForwardAction, clusters: ClusterManager): void {
  if (ex.upgrade !== undefined) void forwardUpgrade(ex, route, a);
  else void new UpstreamRequest(ex, route, a).run(clusters);
}

/** The state of one upstream request: what the timeout acts on, and what a departing client cancels. */
class UpstreamRequest implements TimedRequest, UpstreamCancel {
  readonly ex: HttpStream;
  readonly #route: CompiledRoute;
  readonly #action: ForwardAction;
  readonly abort = new Abort();
  timedOut = false;
  handedOff = false;
  timer: NodeJS.Timeout | undefined;
  /** The response body being relayed, once there is one. */
  #body: UpstreamBody | undefined;

  constructor(ex: HttpStream, route: CompiledRoute, a: ForwardAction) {
    this.ex = ex;
    this.#route = route;
    this.#action = a;
  }

  /** The client went away: the attempt in flight is aborted, or the response body dropped. */
  cancel(): void {
    if (this.#body) this.#body.destroy();
    else this.abort.abort();
  }

  async run(clusters: ClusterManager): Promise<void> {
    const ex = this.ex;
    try {
      const a = this.#action;
      const retry = a.retry;
      const cluster = ex.cluster!;
      const info = ex.info;
      const headers = upstreamHeaders(ex, this.#route, a);
      const path = rewritePath(info.path, a, headers);
      const withBody = requestHasBody(ex.req);
      // Retries and mirrors need the body again: keep it (up to a limit, request-body.ts); otherwise stream it through.
      let buffered: Buffer | undefined;
      let body: RequestBody = withBody ? ex.req : undefined;
      if (withBody && ((retry && retry.numRetries > 0) || a.mirrors.length > 0)) {
        const kept = await bufferBody(ex.req);
        // The client may have reset the stream while its body was read: nothing must go upstream for it then.
        if (ex.downstreamGone) return finishStream(ex);
        body = kept.body;
        if (kept.kind === 'buffered') buffered = kept.body;
        else cluster.stats.retry_or_shadow_abandoned++;
      }
      if (a.mirrors.length > 0 && (buffered || !withBody)) mirror(ex, a.mirrors, clusters, headers, path, buffered);
      if (buffered) info.bytesReceived = buffered.length;
      else if (withBody) info.bytesReceived = Number(ex.req.headers['content-length'] ?? 0);
      startRouteTimeout(this, a.timeoutMs);
      ex.upstream = this;
      for (let n = 0; ; n++) {
        const host = cluster.pick(ex.conn.originalDst, ex.hash, dstSources(ex));
        if (!host) {
          cluster.stats.upstream_cx_none_healthy++;
          return localReply(ex, 503, 'UH', 'no_healthy_upstream');
        }
        info.upstreamHost = host.key;
        const outcome = await attempt(ex, host, path, headers, body, retry, this.abort);
        if (ex.downstreamGone) {
          if (outcome.kind === 'response') outcome.data.body.destroy();
          return finishStream(ex);
        }
        if (this.timedOut && outcome.kind !== 'response') return this.#timedOut();
        if (retryAdmitted(ex, retry, outcome, n, buffered !== undefined || !withBody)) {
          await backoff(retry!, n);
          cluster.retriesActive--;
          if (ex.downstreamGone) return finishStream(ex);
          if (this.timedOut) return this.#timedOut();
          continue;
        }
        if (outcome.kind === 'response') {
          handOffRouteTimeout(this);
          this.#body = outcome.data.body;
        }
        return respond(ex, outcome, this.#route.responseOps);
      }
    } catch {
      localReply(ex, 500, undefined, 'internal_error');
    } finally {
      stopRouteTimeout(this);
    }
  }

  #timedOut(): void {
    this.ex.cluster!.stats.upstream_rq_timeout++;
    localReply(this.ex, 504, 'UT', 'upstream_response_timeout');
  }
}

/** What an ORIGINAL_DST cluster may read its destination from: the request's headers, the connection's dynamic metadata. */
function dstSources(ex: HttpStream): Omit<DstSources, 'local'> {
  const h = ex.req.headers;
  return { header: (n) => { const v = h[n]; return Array.isArray(v) ? v[0] : v; }, metadata: [ex.conn.metadata] };
}
