/**
 * The body half of an upstream HTTP/1.1 exchange, shared by both engines
 * (undici's dispatch handler and the proxy's own h1 pool): chunks that arrive
 * before the router attaches its sink are kept, up to EARLY_LIMIT, then the
 * transport is stalled; delivery follows the sink's pause/resume; end and
 * error reach the sink exactly once, after the early chunks. Subclasses say
 * how to restart a stalled transport.
 */
import type { BodySink, UpstreamBody } from '../response.js';

/** Chunks that arrive before the sink is attached are kept up to this size, then the connection is paused. */
const EARLY_LIMIT = 64 * 1024;

export type ExchangeState = 'queued' | 'pending' | 'body' | 'ended' | 'failed' | 'destroyed';

export abstract class StreamedBody implements UpstreamBody {
  /** 'queued'/'pending' until headers; then 'body'; 'ended' / 'failed' / 'destroyed' are final. */
  state: ExchangeState;
  #sink: BodySink | undefined;
  #early: Buffer[] | undefined;
  #earlyBytes = 0;
  /** The consumer asked for a pause (downstream back-pressure). */
  #paused = false;
  /** The transport was told to stop reading and waits for unstallTransport(). */
  #stalled = false;
  #error: Error | undefined;

  constructor(initial: ExchangeState) {
    this.state = initial;
  }

  /** Restarts reading from the transport after deliver() returned false. */
  protected abstract unstallTransport(): void;

  /** Hands a body chunk on (or keeps it); false when the transport must stop reading. */
  protected deliver(chunk: Buffer): boolean {
    if (this.state !== 'body') return true;
    if (this.#sink && !this.#early) {
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

  /** The body is complete. */
  protected endBody(): void {
    if (this.state !== 'body') return;
    this.state = 'ended';
    if (this.#sink && !this.#early) this.#sink.end();
  }

  /** The exchange failed; returns the state it was in (the caller rejects a response still awaited). */
  protected failBody(err: Error): ExchangeState {
    const was = this.state;
    if (was === 'ended' || was === 'failed' || was === 'destroyed') return was;
    this.state = 'failed';
    this.#error = err;
    if (was === 'body' && this.#sink && !this.#early) this.#sink.error(err);
    return was;
  }

  /** The consumer gave up; returns the state it was in (the caller aborts a live transport). */
  protected destroyBody(): ExchangeState {
    const was = this.state;
    this.state = 'destroyed';
    this.#early = undefined;
    return was;
  }

  /** The error a failed exchange ended with. */
  protected get error(): Error | undefined {
    return this.#error;
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
      this.unstallTransport();
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

  abstract destroy(): void;

  /** Reads the rest of the body and drops it, so the connection can be reused. */
  protected discard(): void {
    this.start({ data: () => undefined, end: () => undefined, error: () => undefined });
    this.resume();
  }
}
