/**
 * The downstream request of the HTTP/1.1 codec: the fields of node:http's
 * IncomingMessage that the router and forwarder read, and the body as an
 * async iterable (undici and the forwarder's buffering accept that) or via
 * pipe() (the HTTP/2 upstream client). A request without a body has no stream
 * object at all.
 */
import { Readable } from 'node:stream';
import type { HeaderMap, RequestHead } from './head.js';

const ignore = (): void => undefined;
const EMPTY: AsyncIterator<Buffer> = { next: () => Promise.resolve({ done: true, value: undefined }) };

export class H1Request {
  readonly method: string;
  readonly url: string;
  readonly headers: HeaderMap;
  readonly httpVersion: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: number;
  /** The body, when the head announced one. */
  readonly body: Readable | undefined;

  constructor(head: RequestHead, onRead: () => void) {
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
    this.httpVersionMinor = head.versionMinor;
    this.httpVersion = head.versionMinor === 1 ? '1.1' : '1.0';
    // read() is called when the consumer wants more: the connection resumes the socket.
    this.body = head.framing.kind === 'none' ? undefined : new Readable({ read: onRead });
    // The connection destroys the body with the reason when the peer sends a bad chunk or goes away;
    // a consumer learns it from its own iterator or pipe. With nobody reading yet, an unhandled
    // 'error' would kill the whole proxy (issue 8: one bad chunk from any peer crashed the sidecar).
    this.body?.on('error', ignore);
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.body ? this.body[Symbol.asyncIterator]() : EMPTY;
  }

  pipe<T extends NodeJS.WritableStream>(dest: T): T {
    if (this.body) return this.body.pipe(dest);
    dest.end();
    return dest;
  }
}
