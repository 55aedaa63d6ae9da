/**
 * One request of the lean upstream client: the promise of its response head,
 * and the response body as an UpstreamBody (chunks straight from the
 * connection's decoder to the downstream sink; early chunks kept until the
 * sink attaches; pause/resume act on the upstream socket).
 */
import type { AbortLike, H1RequestOptions } from '../cluster/h1-exchange.js';
import type { BodySink, UpstreamBody, UpstreamHeaders, UpstreamResponse } from '../cluster/upstream-response.js';

/** Chunks that arrive before the sink is attached are kept up to this size, then the connection is paused. */
const EARLY_LIMIT = 64 * 1024;

/** The connection side of an exchange (upstream-conn.ts). */
export interface ExchangeConn {
  pause(): void;
  resume(): void;
  /** Gives up on the request: the connection is closed (it cannot be reused mid-message). */
  abort(err: Error): void;
}

export function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { code: 'UND_ERR_ABORTED' });
}

export class LeanExchange implements UpstreamBody {
  readonly opts: H1RequestOptions;
  /** 'queued' until a connection takes it; 'pending' until headers; then 'body'; the rest are final. */
  state: 'queued' | 'pending' | 'body' | 'ended' | 'failed' | 'destroyed' = 'queued';
  conn: ExchangeConn | undefined;
  /** Bytes of the response received: a reused connection that fails before any may be retried. */
  received = 0;
  readonly #resolve: (r: UpstreamResponse) => void;
  readonly #reject: (e: Error) => void;
  readonly #signal: AbortLike;
  #sink: BodySink | undefined;
  #early: Buffer[] | undefined;
  #earlyBytes = 0;
  #paused = false;
  #stalled = false;
  #error: Error | undefined;

  constructor(opts: H1RequestOptions, signal: AbortLike, resolve: (r: UpstreamResponse) => void, reject: (e: Error) => void) {
    this.opts = opts;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** The request's abort signal fired (route or per-try timeout, downstream gone). */
  readonly onSignal = (): void => {
    const err = abortError();
    if (this.conn && (this.state === 'pending' || this.state === 'body')) this.conn.abort(err);
    this.fail(err);
  };

  /** The response head arrived (final status). */
  head(statusCode: number, headers: UpstreamHeaders): void {
    if (this.state !== 'pending') return;
    this.state = 'body';
    this.#resolve({ statusCode, headers, body: this, trailers: () => undefined, discard: () => this.#discard() });
  }

  data(chunk: Buffer): void {
    if (this.state !== 'body') return;
    if (this.#sink && !this.#early) {
      this.#sink.data(chunk);
      if (!this.#paused) return;
    } else {
      (this.#early ??= []).push(chunk);
      this.#earlyBytes += chunk.length;
      if (this.#earlyBytes < EARLY_LIMIT) return;
    }
    this.#stalled = true;
    this.conn?.pause();
  }

  complete(): void {
    this.#signal.off('abort', this.onSignal);
    if (this.state !== 'body') return;
    this.state = 'ended';
    if (this.#sink && !this.#early) this.#sink.end();
  }

  fail(err: Error): void {
    this.#signal.off('abort', this.onSignal);
    const was = this.state;
    if (was === 'ended' || was === 'failed' || was === 'destroyed') return;
    this.state = 'failed';
    this.#error = err;
    if (was === 'pending' || was === 'queued') this.#reject(err);
    else if (this.#sink && !this.#early) this.#sink.error(err);
  }

  start(sink: BodySink): void {
    this.#sink = sink;
    this.#flush();
  }

  #flush(): void {
    const sink = this.#sink!;
    const early = this.#early;
    if (early) {
      this.#early = undefined;
      this.#earlyBytes = 0;
      for (const c of early) {
        if (this.state === 'destroyed') return;
        sink.data(c);
      }
    }
    if (this.state === 'ended') sink.end();
    else if (this.state === 'failed') sink.error(this.#error!);
    else this.#unstall();
  }

  #unstall(): void {
    if (this.#stalled && !this.#paused && this.state === 'body') {
      this.#stalled = false;
      this.conn?.resume();
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#sink && this.#early) this.#flush();
    else this.#unstall();
  }

  destroy(): void {
    const was = this.state;
    this.state = 'destroyed';
    this.#early = undefined;
    this.#signal.off('abort', this.onSignal);
    if ((was === 'body' || was === 'pending') && this.conn) this.conn.abort(abortError());
  }

  /** Reads the rest of the body and drops it, so the connection can be reused. */
  #discard(): void {
    this.start({ data: () => undefined, end: () => undefined, error: () => undefined });
    this.resume();
  }
}
