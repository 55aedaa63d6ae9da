/**
 * The downstream request and response as the filters and the router use
 * them: the proxy's own HTTP/1.1 objects (h1/) or node:http2's. A request or
 * response with httpVersionMajor 2 is node:http2's; the few HTTP/2-only
 * operations (trailers, a HEADERS frame that ends the stream) are here.
 */
import { Http2ServerResponse, type Http2ServerRequest, type OutgoingHttpHeaders } from 'node:http2';
import type { H1Request } from './h1/request.js';
import type { H1Response } from './h1/response.js';

export type DownstreamRequest = H1Request | Http2ServerRequest;
export type DownstreamResponse = H1Response | Http2ServerResponse;

/** The HTTP/2 response, or undefined on HTTP/1.1. */
export function h2Response(res: DownstreamResponse): Http2ServerResponse | undefined {
  return res instanceof Http2ServerResponse ? res : undefined;
}

/** HTTP/2: the whole response as one HEADERS frame with END_STREAM (gRPC trailers-only). False on HTTP/1.1. */
export function respondHeadersOnly(res: DownstreamResponse, status: number, headers: OutgoingHttpHeaders): boolean {
  const h2 = h2Response(res);
  if (!h2) return false;
  h2.stream.respond({ ...headers, ':status': status }, { endStream: true });
  return true;
}

/** The request's body is still to come (HTTP/2: the HEADERS frame did not end the stream). */
export function requestHasBody(req: DownstreamRequest): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.httpVersionMajor === 2 && !req.stream.endAfterHeaders;
}

/**
 * Whether a response that closed had reached its end. Http2ServerResponse says writableFinished for a
 * stream the client reset (RST_STREAM) too, so on HTTP/2 the stream's reset code decides: read as
 * finished, a cancelled request kept its upstream request running and its circuit-breaker slot forever
 * (issue 12, rapid reset: 1,024 resets and the cluster answered 503 to everyone).
 */
export function responseCompleted(res: DownstreamResponse): boolean {
  if (!res.writableFinished) return false;
  const h2 = h2Response(res);
  return h2 === undefined || !h2.stream.rstCode;
}

/**
 * HTTP/2: the stream closed before the connection manager got its request (the client's RST_STREAM, or
 * the end of its connection, read together with the HEADERS while the event loop was busy). Its 'close'
 * has already fired; served anyway, its upstream request would hold a circuit-breaker slot until the
 * upstream answered.
 */
export function streamAlreadyClosed(res: DownstreamResponse): boolean {
  const h2 = h2Response(res);
  return h2 !== undefined && (h2.stream.destroyed || h2.stream.closed);
}
