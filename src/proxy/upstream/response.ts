/** The upstream response as the router sees it, whichever client (undici HTTP/1.1 or node:http2) produced it. */
import type { Readable } from 'node:stream';
import type { SwitchedConnection } from '../codec/h1/response.js';
import { upstreamReset } from './errors.js';

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** Where an upstream body goes: chunks, then exactly one of end or error (none after destroy()). */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
}

/**
 * An upstream response body, delivered to one sink. Not a Readable: the
 * HTTP/1.1 client hands chunks straight from undici's parser to the
 * downstream response (no stream object, no pipe() per request).
 */
export interface UpstreamBody {
  /** Starts delivery (once); chunks that arrived earlier are delivered now. */
  start(sink: BodySink): void;
  /** Back-pressure: stop reading from the upstream connection until resume(). */
  pause(): void;
  resume(): void;
  /** Gives up on the body: the upstream request is aborted if still running, the sink hears nothing more. */
  destroy(): void;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: UpstreamHeaders;
  body: UpstreamBody;
  /** Trailers, known once the body has ended (gRPC status). */
  trailers(): UpstreamHeaders | undefined;
  /** The response ended with its headers (HTTP/2 END_STREAM on HEADERS: gRPC trailers-only). */
  headersOnly?: boolean;
  /** Reads and drops the body (before a retry). */
  discard(): void;
  /** A 101 to an upgrade request: the upstream connection, out of its pool for good, and the bytes after the response head. */
  switched?: SwitchedConnection;
}

/** A Readable (the HTTP/2 client's stream) as an UpstreamBody. */
export function readableBody(r: Readable): UpstreamBody {
  let destroyed = false;
  let settled = false;
  return {
    start(sink) {
      r.on('data', (c: Buffer) => { if (!destroyed) sink.data(c); });
      r.once('end', () => { settled = true; if (!destroyed) sink.end(); });
      r.once('error', (e: Error) => { settled = true; if (!destroyed) sink.error(e); });
      // A stream cancelled locally (route timeout) closes without 'end' or 'error': still a failed body, never a hang.
      r.once('close', () => { if (!settled && !destroyed) sink.error(upstreamReset('upstream stream closed before its end')); });
    },
    pause: () => { r.pause(); },
    resume: () => { r.resume(); },
    destroy: () => {
      destroyed = true;
      r.destroy();
    },
  };
}
