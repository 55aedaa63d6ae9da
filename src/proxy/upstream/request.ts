/** What the router hands an upstream client for one attempt, whichever protocol (HTTP/1.1 pool, HTTP/2 client) carries it. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** A request body that streams through: the downstream request itself (HTTP/1.1 or HTTP/2), read once. */
export interface StreamedRequestBody extends AsyncIterable<Buffer | string> {
  pipe<T extends NodeJS.WritableStream>(dest: T): T;
}

export interface UpstreamRequestOptions {
  path: string;
  method: string;
  headers: RequestHeaders;
  /** A buffer is sent with its length (and can be sent again: retries, mirrors); a stream is sent as it arrives. */
  body: Buffer | string | StreamedRequestBody | undefined;
}
