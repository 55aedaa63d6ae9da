/**
 * Responses the proxy makes itself — Envoy's local replies: no route (NR), no
 * cluster (NC), upstream failures (UH, UF, UO, UR, UT), an RBAC denial, a
 * fault abort, direct responses and redirects. The one place the filters and
 * the router answer a request without the upstream: Envoy's bodies and
 * response flags, gRPC clients get a trailers-only response with the mapped
 * grpc-status, and the headers pass the filters on their way back. Also the
 * CORS filter's preflight answers.
 */
import { respondHeadersOnly } from '../codec/downstream.js';
import type { Headers } from '../router/header-ops.js';
import { encodeHeaders } from './chain.js';
import { finishStream, isGrpc, type HttpStream } from './stream.js';

/** Envoy's local reply bodies, so clients and tests see the familiar text. */
export const LOCAL_BODY: Readonly<Record<string, string>> = {
  NR: '',
  NC: '',
  UH: 'no healthy upstream',
  UF: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  UO: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
  UR: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  UT: 'upstream request timeout',
  FI: 'fault filter abort',
  SI: 'stream timeout',
};

/** HTTP → gRPC status for local replies (Envoy's Grpc::Utility::httpToGrpcStatus); anything else is UNKNOWN (2). */
const GRPC_STATUS: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };

/**
 * gRPC's percent-encoding of grpc-message (Envoy's PercentEncoding::encode): only bytes outside
 * printable ASCII and '%' itself; encodeURIComponent also turned ':' into "%3A", which clients show as is.
 */
function grpcMessage(m: string): string {
  return m.replace(/[^\x20-\x24\x26-\x7e]+/g, (c) => Buffer.from(c).toString('hex').toUpperCase().replace(/(..)/g, '%$1'));
}

/**
 * An Envoy-generated response with its response flag (NR, UH, UF, UO, UT, ...) and Envoy's body for it,
 * or, without a flag, `text` as its body; `extra` headers on it (a 401's www-authenticate).
 * Too late for a status (the response has begun): the stream is reset.
 */
export function localReply(ex: HttpStream, status: number, flag: string | undefined, details: string, text = '', extra?: Headers): void {
  if (flag) ex.info.addFlag(flag);
  ex.info.responseCodeDetails = details;
  if (ex.res.headersSent) {
    // Too late for a status: reset the stream, as Envoy does.
    ex.res.destroy();
    finishStream(ex);
    return;
  }
  const body = flag ? LOCAL_BODY[flag] ?? '' : text;
  if (ex.req.httpVersionMajor === 2 && isGrpc(ex)) return grpcReply(ex, GRPC_STATUS[status] ?? 2, body || details, extra);
  reply(ex, status, body, undefined, extra);
}

/** gRPC clients get a trailers-only response: HTTP 200 with grpc-status (and grpc-message) in its one HEADERS frame. */
export function grpcReply(ex: HttpStream, grpcStatus: number, message: string, extra?: Headers): void {
  ex.info.responseCode = 200;
  const h: Headers = { ...extra, 'content-type': 'application/grpc', 'grpc-status': String(grpcStatus), 'grpc-message': grpcMessage(message) };
  encodeHeaders(ex, 200, h);
  respondHeadersOnly(ex.res, 200, h);
  finishStream(ex);
}

/** A complete response with a plain-text body (a direct response, a redirect with its location, a local reply). */
export function reply(ex: HttpStream, status: number, body: string, location?: string, extra?: Headers): void {
  const h: Headers = extra ? { ...extra } : {};
  if (location !== undefined) h.location = location;
  send(ex, status, body, h);
}

/** A response of headers only, made by a filter (the CORS preflight answer), with its response code details. */
export function headersReply(ex: HttpStream, status: number, headers: Headers, details: string): void {
  ex.info.responseCodeDetails = details;
  send(ex, status, '', headers);
}

function send(ex: HttpStream, status: number, body: string, h: Headers): void {
  const res = ex.res;
  ex.info.responseCode = status;
  const len = Buffer.byteLength(body);
  ex.info.bytesSent = len;
  if (len > 0) h['content-type'] = 'text/plain';
  h['content-length'] = String(len);
  encodeHeaders(ex, status, h);
  res.writeHead(status, h);
  res.end(body);
  finishStream(ex);
}
