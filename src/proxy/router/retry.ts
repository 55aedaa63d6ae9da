/**
 * Retries as Envoy's router does them: the policy's conditions (retry_on)
 * applied to one attempt's outcome, the cluster's retry budget
 * (max_retries: overflow is counted, not retried), URX when retries ran out,
 * and the fully jittered exponential back-off between attempts.
 */
import type { HttpStream } from '../filters/stream.js';
import type { Host } from '../upstream/host.js';
import { isConnectFailure } from '../upstream/errors.js';
import type { UpstreamResponse } from '../upstream/response.js';
import type { RetryPlan } from './route-action.js';

export type FailureReason = 'connect-failure' | 'reset' | 'per-try-timeout' | 'aborted';

export type AttemptOutcome =
  | { kind: 'response'; data: UpstreamResponse; host: Host }
  | { kind: 'error'; reason: FailureReason; error: unknown };

/** A connect failure (never connected: refused, unreachable, TLS handshake, connect timeout) or a reset after connecting. */
export function classifyError(err: unknown): FailureReason {
  return isConnectFailure(err) ? 'connect-failure' : 'reset';
}

export function retriable(r: RetryPlan, o: AttemptOutcome): boolean {
  if (o.kind === 'response') {
    const s = o.data.statusCode;
    if (r.on5xx && s >= 500) return true;
    if (r.gatewayError && (s === 502 || s === 503 || s === 504)) return true;
    return r.statusCodes.has(s);
  }
  switch (o.reason) {
    case 'connect-failure': return r.connectFailure;
    case 'reset': return r.reset;
    // Envoy retries a per-try timeout under 5xx, gateway-error and reset.
    case 'per-try-timeout': return r.on5xx || r.gatewayError || r.reset;
    default: return false;
  }
}

/**
 * After an attempt: true when it is to be retried (the retry is admitted and counted, a response
 * read and dropped); false when this outcome is the answer. `replayable`: the request body can be
 * sent again (none, or buffered).
 */
export function retryAdmitted(ex: HttpStream, r: RetryPlan | undefined, o: AttemptOutcome, attempt: number, replayable: boolean): boolean {
  if (r === undefined || !replayable || !retriable(r, o)) return false;
  const cluster = ex.cluster!;
  if (attempt < r.numRetries) {
    if (cluster.admitRetry()) {
      cluster.stats.upstream_rq_retry++;
      if (o.kind === 'response') o.data.discard();
      return true;
    }
    cluster.stats.upstream_rq_retry_overflow++;
  }
  if (r.numRetries > 0) ex.info.addFlag('URX');
  return false;
}

/** Envoy: fully jittered, uniform in [0, base·2^attempt), capped at max_interval. */
export function backoff(r: RetryPlan, attempt: number): Promise<void> {
  const ceiling = Math.min(r.maxMs, r.baseMs * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * ceiling)));
}
