/**
 * The HTTP filter interface, Envoy's model made synchronous-first: each
 * filter of a connection manager's ordered list sees the request on its way
 * in (decodeHeaders) and, optionally, the response on its way back
 * (encodeHeaders, in reverse order). A filter continues, or stops: it
 * answered with a local reply (filters/local-reply.ts), or it holds the
 * request and resumes the chain later (continueDecoding in chain.ts). The
 * router is the last filter and always stops. No promise or closure per
 * request unless a filter needs to wait (a fault delay).
 */
import type { Headers } from '../router/header-ops.js';
import type { HttpStream } from './stream.js';

/** The next filter runs now. */
export const CONTINUE = 0;
/** The chain stops here: this filter answered, or it calls continueDecoding(stream) later. */
export const STOP = 1;
export type FilterStatus = typeof CONTINUE | typeof STOP;

export interface HttpFilter {
  /** Envoy's filter name (envoy.filters.http.rbac, ...), for logs. */
  readonly name: string;
  /** The request's headers are in (stream.req, stream.route is already looked up). */
  decodeHeaders(stream: HttpStream): FilterStatus;
  /** The response's headers on their way back to the client; may change them. Absent: nothing to do. */
  encodeHeaders?(stream: HttpStream, status: number, headers: Headers): void;
}
