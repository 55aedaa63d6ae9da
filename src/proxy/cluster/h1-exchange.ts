/**
 * One HTTP/1.1 request on a host's undici Pool through undici's dispatch
 * handler API. undici's request() adds, per request, an AsyncResource, a
 * Readable body stream and its events, and the proxy then pipe()d that stream
 * downstream; the profile showed these layers (and the garbage they leave) as
 * a large share of the proxy's CPU. Here the parser's chunks go straight to
 * the body's sink.
 */
import type { Dispatcher, Pool } from 'undici';
import { env } from '../../env.js';
import { leanPoolOf } from '../h1/upstream-pool.js';
import type { BodySink, UpstreamBody, UpstreamHeaders, UpstreamResponse } from './upstream-response.js';

/** Any object with `aborted` and an 'abort' event (http/abort.ts). */
export interface AbortLike {
  readonly aborted: boolean;
  once(event: 'abort', fn: () => void): unknown;
  off(event: 'abort', fn: () => void): unknown;
}

export interface H1RequestOptions {
  path: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.DispatchOptions['body'];
}

/** Resolves with the response once its headers arrived; rejects on failure before that. */
export function h1Exchange(pool: Pool, o: H1RequestOptions, signal: AbortLike): Promise<UpstreamResponse> {
  const lean = env.http1Engine === 'lean' ? leanPoolOf(pool) : undefined;
  if (lean) return lean.exchange(o, signal);
  return new Promise((resolve, reject) => {
    const h = new H1Handler(resolve, reject, signal);
    if (signal.aborted) return reject(abortError());
    signal.once('abort', h.onSignal);
    pool.dispatch({ path: o.path, method: o.method as Dispatcher.HttpMethod, headers: o.headers as Record<string, string | string[]>, body: o.body }, h);
  });
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { code: 'UND_ERR_ABORTED' });
}

/** Chunks that arrive before the sink is attached are kept up to this size, then the connection is paused. */
const EARLY_LIMIT = 64 * 1024;

/** undici's (legacy, unwrapped) dispatch handler and the response body in one object: one allocation per request. */
class H1Handler implements Dispatcher.DispatchHandler, UpstreamBody {
  readonly #resolve: (r: UpstreamResponse) => void;
  readonly #reject: (e: Error) => void;
  readonly #signal: AbortLike;
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #sink: BodySink | undefined;
  #early: Buffer[] | undefined;
  #earlyBytes = 0;
  /** 'pending' until headers; then 'body'; 'ended' / 'failed' / 'destroyed' are final. */
  #state: 'pending' | 'body' | 'ended' | 'failed' | 'destroyed' = 'pending';
  #error: Error | undefined;
  /** The consumer asked for a pause (downstream back-pressure). */
  #paused = false;
  /** undici was told to stop reading (onData returned false) and waits for its resume(). */
  #stalled = false;
  #trailers: UpstreamHeaders | undefined;

  constructor(resolve: (r: UpstreamResponse) => void, reject: (e: Error) => void, signal: AbortLike) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
  }

  /** The request's abort signal fired (route or per-try timeout, downstream gone). */
  readonly onSignal = (): void => {
    if (this.#abort) this.#abort(abortError());
    else this.#fail(abortError());
  };

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    // Aborted while queued in the pool: do not send it now.
    if (this.#state === 'failed' || this.#state === 'destroyed') abort(this.#error ?? abortError());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real response follows
    this.#resume = resume;
    this.#state = 'body';
    const body = this as UpstreamBody;
    this.#resolve({
      statusCode,
      headers: parseHeaders(rawHeaders),
      body,
      trailers: () => this.#trailers,
      discard: () => this.#discard(),
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#state !== 'body') return true;
    if (this.#sink) {
      this.#sink.data(chunk);
      if (!this.#paused) return true;
    } else {
      (this.#early ??= []).push(chunk);
      this.#earlyBytes += chunk.length;
      if (this.#earlyBytes < EARLY_LIMIT) return true;
    }
    this.#stalled = true;
    return false;
  }

  onComplete(rawTrailers: Buffer[] | string[] | null): void {
    this.#signal.off('abort', this.onSignal);
    if (rawTrailers && rawTrailers.length > 0) this.#trailers = parseHeaders(rawTrailers as Buffer[]);
    if (this.#state !== 'body') return;
    this.#state = 'ended';
    if (this.#sink && !this.#early) this.#sink.end();
  }

  onError(err: Error): void {
    this.#fail(err);
  }

  #fail(err: Error): void {
    this.#signal.off('abort', this.onSignal);
    const was = this.#state;
    if (was === 'ended' || was === 'failed' || was === 'destroyed') return;
    this.#state = 'failed';
    this.#error = err;
    if (was === 'pending') this.#reject(err);
    else if (this.#sink && !this.#early) this.#sink.error(err);
  }

  start(sink: BodySink): void {
    this.#sink = sink;
    this.#flush();
  }

  /** Delivers early chunks, then a completion that happened meanwhile. */
  #flush(): void {
    const sink = this.#sink!;
    const early = this.#early;
    if (early) {
      this.#early = undefined;
      this.#earlyBytes = 0;
      for (const c of early) {
        if (this.#state === 'destroyed') return;
        sink.data(c);
      }
    }
    if (this.#state === 'ended') sink.end();
    else if (this.#state === 'failed') sink.error(this.#error!);
    else this.#unstall();
  }

  #unstall(): void {
    if (this.#stalled && !this.#paused && this.#state === 'body') {
      this.#stalled = false;
      this.#resume?.();
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
    const was = this.#state;
    this.#state = 'destroyed';
    this.#early = undefined;
    this.#signal.off('abort', this.onSignal);
    if (was === 'body' || was === 'pending') this.#abort?.(abortError());
  }

  /** Reads the rest of the body and drops it, so the connection can be reused. */
  #discard(): void {
    this.start({ data: () => undefined, end: () => undefined, error: () => undefined });
    this.resume();
  }
}

/** undici's raw [name, value, name, value, ...] as a Node-style header object (lower-case names, repeated names as arrays). */
function parseHeaders(raw: Buffer[]): UpstreamHeaders {
  const out: UpstreamHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('utf8');
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}
