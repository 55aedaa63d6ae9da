/**
 * One request of the proxy's upstream HTTP/1.1 client: the promise of its response head,
 * and the response body as an UpstreamBody (chunks straight from the
 * connection's decoder to the downstream sink; early chunks kept until the
 * sink attaches; pause/resume act on the upstream socket).
 */
import type { Socket } from 'node:net';
import type { AbortLike } from '../abort.js';
import type { UpstreamRequestOptions } from '../request.js';
import type { UpstreamHeaders, UpstreamResponse } from '../response.js';
import { aborted } from '../errors.js';
import { StreamedBody } from './streamed-body.js';

/** The connection side of an exchange (upstream-conn.ts). */
export interface ExchangeConn {
  pause(): void;
  resume(): void;
  /** Gives up on the request: the connection is closed (it cannot be reused mid-message). */
  abort(err: Error): void;
}

export class H1Exchange extends StreamedBody {
  readonly opts: UpstreamRequestOptions;
  conn: ExchangeConn | undefined;
  /** Bytes of the response received: a reused connection that fails before any may be retried. */
  received = 0;
  readonly #resolve: (r: UpstreamResponse) => void;
  readonly #reject: (e: Error) => void;
  readonly #signal: AbortLike;

  constructor(opts: UpstreamRequestOptions, signal: AbortLike, resolve: (r: UpstreamResponse) => void, reject: (e: Error) => void) {
    super('queued');
    this.opts = opts;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** The request's abort signal fired (route or per-try timeout, downstream gone). */
  readonly onSignal = (): void => {
    const err = aborted();
    if (this.conn && (this.state === 'pending' || this.state === 'body')) this.conn.abort(err);
    this.fail(err);
  };

  /** The response head arrived (final status). */
  head(statusCode: number, headers: UpstreamHeaders): void {
    if (this.state !== 'pending') return;
    this.state = 'body';
    this.#resolve({ statusCode, headers, body: this, trailers: () => undefined, discard: () => this.discard() });
  }

  /** A 101 to an upgrade request: the response has no body, and the connection is handed over with it. */
  switched(headers: UpstreamHeaders, socket: Socket, rest: Buffer | undefined): void {
    if (this.state !== 'pending') return void socket.destroy();
    this.#signal.off('abort', this.onSignal);
    this.state = 'ended';
    this.conn = undefined;
    this.#resolve({ statusCode: 101, headers, body: this, trailers: () => undefined, discard: () => undefined, switched: { socket, rest } });
  }

  data(chunk: Buffer): void {
    if (!this.deliver(chunk)) this.conn?.pause();
  }

  complete(): void {
    this.#signal.off('abort', this.onSignal);
    this.endBody();
  }

  fail(err: Error): void {
    this.#signal.off('abort', this.onSignal);
    const was = this.failBody(err);
    if (was === 'pending' || was === 'queued') this.#reject(err);
  }

  protected unstallTransport(): void {
    this.conn?.resume();
  }

  destroy(): void {
    const was = this.destroyBody();
    this.#signal.off('abort', this.onSignal);
    if ((was === 'body' || was === 'pending') && this.conn) this.conn.abort(aborted());
  }
}
