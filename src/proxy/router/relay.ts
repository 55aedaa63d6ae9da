/**
 * The upstream's answer on its way back: a failure becomes Envoy's local
 * reply (UT, UF, UR); a response gets its hop-by-hop headers dropped,
 * x-envoy-upstream-service-time and the response header operations added,
 * passes the filters (encodeHeaders), and its body streams downstream with
 * back-pressure, trailers included (gRPC status). A response that cannot be
 * written (bad upstream headers) is 502 UPE.
 */
import { h2Response, respondHeadersOnly, responseCompleted } from '../codec/downstream.js';
import { encodeHeaders } from '../filters/chain.js';
import { localReply } from '../filters/local-reply.js';
import { finishStream, type HttpStream } from '../filters/stream.js';
import { connectFailureDetails } from '../upstream/errors.js';
import type { BodySink, UpstreamResponse } from '../upstream/response.js';
import type { HeaderOp } from './header-ops.js';
import { downstreamHeaders } from './response-headers.js';
import type { AttemptOutcome } from './retry.js';

export function respond(ex: HttpStream, o: AttemptOutcome, responseOps: readonly HeaderOp[]): void {
  if (o.kind === 'error') {
    if (o.reason === 'per-try-timeout') return localReply(ex, 504, 'UT', 'upstream_per_try_timeout');
    if (o.reason === 'connect-failure') return localReply(ex, 503, 'UF', connectFailureDetails(o.error));
    return localReply(ex, 503, 'UR', 'upstream_reset_before_response_started{connection_termination}');
  }
  const { statusCode, headers, body } = o.data;
  const out = downstreamHeaders(ex, headers, responseOps);
  encodeHeaders(ex, statusCode, out);
  ex.info.responseCode = statusCode;
  ex.info.responseHeaders = out;
  ex.info.responseCodeDetails = 'via_upstream';
  const res = ex.res;
  // A gRPC "trailers-only" response: one HEADERS frame that ends the stream, passed on as such.
  if (o.data.headersOnly === true && respondHeadersOnly(res, statusCode, out)) {
    o.data.discard();
    return finishStream(ex);
  }
  try {
    res.writeHead(statusCode, out);
  } catch (err) {
    body.destroy();
    return localReply(ex, 502, 'UPE', `invalid_upstream_headers: ${String(err)}`);
  }
  // Http2ServerResponse emits 'finish' for a stream the client reset too: that one ends in streamClosed().
  res.once('finish', () => { if (responseCompleted(res)) finishStream(ex); });
  body.start(new Relay(ex, o.data));
}

/**
 * Streams the upstream body downstream with back-pressure, counting bytes:
 * one object per response instead of pipe()'s listener set on both streams
 * (pipeline() would add an AbortController). A downstream that goes away is
 * handled by the stream's cancel (filters/stream.ts streamClosed).
 */
class Relay implements BodySink {
  readonly #ex: HttpStream;
  readonly #up: UpstreamResponse;
  #onDrain: (() => void) | undefined;

  constructor(ex: HttpStream, up: UpstreamResponse) {
    this.#ex = ex;
    this.#up = up;
  }

  data(c: Buffer): void {
    this.#ex.info.bytesSent += c.length;
    if (!this.#ex.res.write(c)) {
      const body = this.#up.body;
      body.pause();
      this.#ex.res.once('drain', (this.#onDrain ??= () => body.resume()));
    }
  }

  end(): void {
    const h2 = h2Response(this.#ex.res);
    if (h2) {
      // gRPC status travels in trailers; the clients fill them in before the body ends.
      const t = this.#up.trailers();
      if (t && Object.keys(t).length > 0) h2.addTrailers(t);
    }
    this.#ex.res.end();
  }

  error(): void {
    const ex = this.#ex;
    if (!ex.downstreamGone) ex.info.addFlag(ex.routeTimedOut ? 'UT' : 'UR');
    ex.res.destroy();
    finishStream(ex);
  }
}
