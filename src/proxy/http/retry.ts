/** Envoy's retry conditions (retry_on) applied to one attempt's outcome. */
import type { Host } from '../cluster/host.js';
import type { UpstreamResponse } from '../cluster/upstream-response.js';
import type { RetryPlan } from './route-action.js';

export type FailureReason = 'connect-failure' | 'reset' | 'per-try-timeout' | 'aborted';

export type AttemptOutcome =
  | { kind: 'response'; data: UpstreamResponse; host: Host }
  | { kind: 'error'; reason: FailureReason; error: unknown };

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND']);

/** Connection refused/unreachable/timeout is a connect failure; anything else after connecting is a reset. */
export function classifyError(err: unknown): FailureReason {
  const code = (err as { code?: string } | undefined)?.code;
  if (code && CONNECT_CODES.has(code)) return 'connect-failure';
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause?.code;
  if (cause && CONNECT_CODES.has(cause)) return 'connect-failure';
  return 'reset';
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
