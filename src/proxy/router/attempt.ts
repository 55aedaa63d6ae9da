/**
 * One attempt of an upstream request on one host: HTTP/1.1 or HTTP/2 as the
 * cluster (or the downstream) says, bounded by the retry policy's per-try
 * timeout when it has one, counted on the host and the cluster, reported to
 * outlier detection, and its failure classified for the retry policy. Never
 * rejects: the outcome is a response or a failure reason.
 */
import { sharedWithUpstream } from '../internal/filter-state.js';
import type { HttpStream } from '../filters/stream.js';
import { Abort } from '../upstream/abort.js';
import type { Host } from '../upstream/host.js';
import type { UpstreamRequestOptions } from '../upstream/request.js';
import type { Headers } from './header-ops.js';
import type { RetryPlan } from './route-action.js';
import { classifyError, type AttemptOutcome } from './retry.js';

export type RequestBody = UpstreamRequestOptions['body'];

export async function attempt(
  ex: HttpStream, host: Host, path: string, headers: Headers, body: RequestBody, retry: RetryPlan | undefined, global: Abort,
): Promise<AttemptOutcome> {
  // Only a per-try timeout needs a signal of its own; otherwise the request's signal serves.
  const perTry = retry !== undefined && retry.perTryTimeoutMs > 0;
  const ac = perTry ? new Abort() : global;
  const onGlobal = () => ac.abort();
  // A client gone before this attempt began: once() on the spent request signal aborts the per-try one at once.
  if (perTry) global.once('abort', onGlobal);
  let perTryTimedOut = false;
  const t = perTry ? setTimeout(() => { perTryTimedOut = true; ac.abort(); }, retry.perTryTimeoutMs) : undefined;
  const started = performance.now();
  const cluster = ex.cluster!;
  host.active++;
  host.rqTotal++;
  try {
    const up = cluster.plan.upstreamHttp;
    const o: UpstreamRequestOptions = { path, method: ex.req.method ?? 'GET', headers, body };
    // Filter state travels only to internal listeners (istiod's waypoint: a pod's address to connect_originate).
    const shared = host.internal ? sharedWithUpstream(ex.conn.filterState, ex.filterState) : undefined;
    const data = up === 'http2' || (up === 'downstream' && ex.req.httpVersionMajor === 2) ? await host.h2(shared).request(o, ac) : await host.exchange(o, ac, shared);
    ex.info.upstreamServiceTimeMs = Math.round(performance.now() - started);
    if (cluster.plan.outlier) cluster.report(host, data.statusCode);
    return { kind: 'response', data, host };
  } catch (err) {
    host.rqError++;
    const reason = perTryTimedOut ? 'per-try-timeout' : global.aborted ? 'aborted' : classifyError(err);
    if (reason === 'connect-failure') {
      host.cxConnectFail++;
      cluster.stats.upstream_cx_connect_fail++;
    } else if (reason === 'reset') cluster.stats.upstream_rq_rx_reset++;
    else if (reason === 'per-try-timeout') cluster.stats.upstream_rq_timeout++;
    if (reason !== 'aborted' && cluster.plan.outlier) cluster.report(host, 'local-failure');
    return { kind: 'error', reason, error: err };
  } finally {
    if (perTry) {
      clearTimeout(t);
      global.off('abort', onGlobal);
    }
    host.active--;
  }
}
