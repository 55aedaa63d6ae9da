/**
 * A minimal abort signal: `aborted` and a one-shot 'abort' event with
 * once()/off(), which is all the proxy's HTTP/1.1 (h1/pool.ts)
 * and HTTP/2 clients use. Unlike an AbortSignal's, a listener added to a
 * spent signal is called at once. Cheaper per request and per attempt than an
 * AbortController (and its AbortSignal) or an EventEmitter.
 */

/** Any object with `aborted` and an 'abort' event (Abort below). */
export interface AbortLike {
  readonly aborted: boolean;
  once(event: 'abort', fn: () => void): unknown;
  off(event: 'abort', fn: () => void): unknown;
}
export class Abort {
  aborted = false;
  #listeners: Array<() => void> | undefined;

  /**
   * A listener added after the abort runs at once: a request begun after its client left (an attempt, a
   * pool's queue, an HTTP/2 stream) is then ended like one in flight, with no `aborted` check at each caller.
   */
  once(_event: 'abort', fn: () => void): this {
    if (this.aborted) fn();
    else (this.#listeners ??= []).push(fn);
    return this;
  }

  off(_event: 'abort', fn: () => void): this {
    const l = this.#listeners;
    const i = l ? l.indexOf(fn) : -1;
    if (i >= 0) l!.splice(i, 1);
    return this;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const l = this.#listeners;
    this.#listeners = undefined;
    if (l) for (const fn of l) fn();
  }
}
