/** The upstream response as the router sees it, whichever client (undici HTTP/1.1 or node:http2) produced it. */
import type { Readable } from 'node:stream';

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface UpstreamResponse {
  statusCode: number;
  headers: UpstreamHeaders;
  body: Readable;
  /** Trailers, known once `body` has ended (gRPC status). */
  trailers(): UpstreamHeaders | undefined;
  /** The response ended with its headers (HTTP/2 END_STREAM on HEADERS: gRPC trailers-only). */
  headersOnly?: boolean;
  /** Reads and drops the body (before a retry). */
  discard(): void;
}
