/**
 * Upstream failures as Trellis's own errors (TrellisError, src/errors.ts),
 * whichever client met them (the HTTP/1.1 pool, the HTTP/2 client): the
 * router's retry policy and response flags read the code — a connect failure
 * (UF, retried under connect-failure) or a reset after connecting (UR) —
 * never node's or a library's codes. The original error stays as `cause`.
 */
import { constants as osConstants } from 'node:os';
import { errorMessage, TrellisError } from '../../errors.js';

/** Node's errno codes for a connection that could not be made. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'TRELLIS_TLS_SECRET_MISSING']);
/** OpenSSL's certificate verification verdicts as node reports them: the TLS handshake of the connection failed. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED', 'INVALID_CA', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
]);

/** Envoy counts a failed TLS handshake as a connection failure (UF, "connection_failure,TLS_error"). */
function isConnectCode(code: string | undefined): boolean {
  return code !== undefined && (CONNECT_CODES.has(code) || TLS_VERIFY_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'));
}

const codeOf = (err: unknown): string | undefined => (err as { code?: unknown } | undefined)?.code as string | undefined;

/** The connection could not be made (refused, unreachable, a failed TLS handshake, no TLS secrets yet). */
export function connectFailed(cause: unknown): TrellisError {
  return new TrellisError('UPSTREAM_CONNECT_FAILED', `upstream connect failed: ${errorMessage(cause)}`, { cause });
}

export function connectTimeout(): TrellisError {
  return new TrellisError('UPSTREAM_CONNECT_TIMEOUT', 'upstream connect timeout');
}

/** The connection failed after it was made: closed or reset before the response ended, or a response that cannot be read. */
export function upstreamReset(message: string, cause?: unknown): TrellisError {
  return new TrellisError('UPSTREAM_RESET', cause === undefined ? message : `${message}: ${errorMessage(cause)}`, { cause });
}

/** The request was aborted by the proxy (route or per-try timeout, the client went away). */
export function aborted(): TrellisError {
  return new TrellisError('UPSTREAM_ABORTED', 'upstream request aborted');
}

/** The endpoint's pools were closed (it left its cluster, or the proxy is stopping). */
export function poolClosed(): TrellisError {
  return new TrellisError('UPSTREAM_CLOSED', 'upstream pool closed');
}

/**
 * Any failure of a client as an upstream error: already one stays as it is; otherwise a connect failure
 * when it happened while connecting or carries a connect errno or TLS verdict (itself or its cause),
 * else a reset.
 */
export function asUpstreamError(err: unknown, connecting: boolean): TrellisError {
  if (err instanceof TrellisError && err.code.startsWith('UPSTREAM_')) return err;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof TrellisError && cause.code.startsWith('UPSTREAM_')) return cause;
  if (connecting || isConnectFailure(err)) return connectFailed(err);
  return upstreamReset('upstream connection failed', err);
}

/** A connection that was never made: the retry policy's connect-failure, the UF flag. */
export function isConnectFailure(err: unknown): boolean {
  const code = codeOf(err);
  if (code === 'UPSTREAM_CONNECT_FAILED' || code === 'UPSTREAM_CONNECT_TIMEOUT') return true;
  if (err instanceof TrellisError) return false;
  return isConnectCode(code) || isConnectCode(codeOf((err as { cause?: unknown } | undefined)?.cause));
}

/**
 * Envoy's %RESPONSE_CODE_DETAILS% for a connection that was never made: the reset reason, then the
 * transport's failure reason — a socket error as `delayed_connect_error:_<errno>` (111 for a refused
 * connection), as Envoy's connection reports it (spaces become underscores in details).
 */
export function connectFailureDetails(err: unknown): string {
  let errno: number | undefined;
  // The errno sits on node's error, which each client wraps once or twice (its own error, then ours).
  for (let e = err, i = 0; e !== undefined && errno === undefined && i < 4; e = (e as { cause?: unknown }).cause, i++) errno = errnoOf(e);
  const reason = errno === undefined ? 'remote_connection_failure' : `remote_connection_failure,delayed_connect_error:_${errno}`;
  return `upstream_reset_before_response_started{${reason}}`;
}

function errnoOf(err: unknown): number | undefined {
  const code = typeof err === 'object' && err !== null ? codeOf(err) : undefined;
  return code === undefined ? undefined : (osConstants.errno as Record<string, number | undefined>)[code];
}
