/**
 * Retries as Envoy's router does them: the policy's conditions (retry_on)
 * applied to one attempt's outcome, the cluster's retry budget
 * (max_retries: overflow is counted, not retried), URX when retries ran out,
 * and the fully jittered exponential back-off between attempts.
 */
import type { HttpStream } from '../filters/stream.js';
import type { Host } from '../upstream/host.js';
import type { UpstreamResponse } from '../upstream/response.js';
import type { RetryPlan } from './route-action.js';

export type FailureReason = 'connect-failure' | 'reset' | 'per-try-timeout' | 'aborted';

export type AttemptOutcome =
  | { kind: 'response'; data: UpstreamResponse; host: Host }
  | { kind: 'error'; reason: FailureReason; error: unknown };

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'TRELLIS_TLS_SECRET_MISSING']);
/** OpenSSL's certificate verification verdicts as node reports them: the TLS handshake of the connection failed. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED', 'INVALID_CA', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
]);

/** Envoy counts a failed TLS handshake as a connection failure (UF, "connection_failure,TLS_error"). */
function isConnectCode(code: string): boolean {
  return CONNECT_CODES.has(code) || TLS_VERIFY_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_');
}

/** Connection refused/unreachable/timeout or a failed TLS handshake is a connect failure; anything else after connecting is a reset. */
export function classifyError(err: unknown): FailureReason {
  const code = (err as { code?: string } | undefined)?.code;
  if (code && isConnectCode(code)) return 'connect-failure';
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause?.code;
  if (cause && isConnectCode(cause)) return 'connect-failure';
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
