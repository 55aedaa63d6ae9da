/**
 * One HTTP/1.1 request on a host's undici Pool through undici's dispatch
 * handler API. undici's request() adds, per request, an AsyncResource, a
 * Readable body stream and its events, and the proxy then pipe()d that stream
 * downstream; the profile showed these layers (and the garbage they leave) as
 * a large share of the proxy's CPU. Here the parser's chunks go straight to
 * the body's sink.
 */
import type { Dispatcher, Pool } from 'undici';
import type { UpstreamHeaders, UpstreamResponse } from './upstream-response.js';
import { abortError, StreamedBody } from './streamed-body.js';

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
  return new Promise((resolve, reject) => {
    const h = new H1Handler(resolve, reject, signal);
    if (signal.aborted) return reject(abortError());
    signal.once('abort', h.onSignal);
    pool.dispatch({ path: o.path, method: o.method as Dispatcher.HttpMethod, headers: o.headers as Record<string, string | string[]>, body: o.body }, h);
  });
}


/** undici's (legacy, unwrapped) dispatch handler and the response body in one object: one allocation per request. */
class H1Handler extends StreamedBody implements Dispatcher.DispatchHandler {
  readonly #resolve: (r: UpstreamResponse) => void;
  readonly #reject: (e: Error) => void;
  readonly #signal: AbortLike;
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #trailers: UpstreamHeaders | undefined;

  constructor(resolve: (r: UpstreamResponse) => void, reject: (e: Error) => void, signal: AbortLike) {
    super('pending');
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
    if (this.state === 'failed' || this.state === 'destroyed') abort(this.error ?? abortError());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real response follows
    this.#resume = resume;
    this.state = 'body';
    this.#resolve({
      statusCode,
      headers: parseHeaders(rawHeaders),
      body: this,
      trailers: () => this.#trailers,
      discard: () => this.discard(),
    });
    return true;
  }

  /** false tells undici to stop reading until #resume is called. */
  onData(chunk: Buffer): boolean {
    return this.deliver(chunk);
  }

  onComplete(rawTrailers: Buffer[] | string[] | null): void {
    this.#signal.off('abort', this.onSignal);
    if (rawTrailers && rawTrailers.length > 0) this.#trailers = parseHeaders(rawTrailers as Buffer[]);
    this.endBody();
  }

  onError(err: Error): void {
    this.#fail(err);
  }

  #fail(err: Error): void {
    this.#signal.off('abort', this.onSignal);
    if (this.failBody(err) === 'pending') this.#reject(err);
  }

  protected unstallTransport(): void {
    this.#resume?.();
  }

  destroy(): void {
    const was = this.destroyBody();
    this.#signal.off('abort', this.onSignal);
    if (was === 'body' || was === 'pending') this.#abort?.(abortError());
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
