/**
 * The proxy's tappers and the requests they see. The request path asks one
 * question per request while nobody taps — `hub.tappers.length !== 0` in the
 * connection manager — and allocates nothing; a request some tapper selects
 * carries a TappedStream (HttpStream.tap), which emits its response-init and
 * end events. Each tapper has its own match and rate limit (requests over it
 * are dropped and counted), and a sink that drops events rather than buffer
 * without bound for a tapper that reads slowly.
 *
 * Counters (on /stats): tap.rq_tapped (requests shown, per tapper),
 * tap.rq_dropped_max_rps, tap.events_dropped_slow_consumer; gauge
 * tap.tappers_active.
 */
import type { HttpStream } from '../filters/stream.js';
import type { Headers } from '../router/header-ops.js';
import type { ProxyStats } from '../telemetry/stats.js';
import { requestInit, responseEnd, responseInit, type TapEvent, type TapId, type TapSubject } from './tap-event.js';
import { tapMatches, TokenBucket, type TapMatch } from './tap-match.js';

/** Where a tapper's events go, one NDJSON line each. */
export interface TapSink {
  /** false: the line was dropped (the tapper has not read what it was sent). */
  write(line: string): boolean;
  /** The stream ends (the proxy stops): the tapper sees a clean end, not a reset. */
  end(): void;
}

export class Tapper {
  readonly match: TapMatch;
  readonly bucket: TokenBucket;
  readonly sink: TapSink;
  /** Set when the tapper went away: streams in flight stop writing to it. */
  closed = false;

  constructor(match: TapMatch, sink: TapSink, nowMs: number) {
    this.match = match;
    this.sink = sink;
    this.bucket = new TokenBucket(match.maxRps, nowMs);
  }
}

export class TapHub {
  /** The tappers; its length is the request path's only check while nobody taps. */
  readonly tappers: Tapper[] = [];
  readonly stats: ProxyStats;
  #seq = 0;

  constructor(stats: ProxyStats) {
    this.stats = stats;
    stats.counters.set('tap.tappers_active', 0);
  }

  add(match: TapMatch, sink: TapSink): Tapper {
    const t = new Tapper(match, sink, performance.now());
    this.tappers.push(t);
    this.stats.counters.set('tap.tappers_active', this.tappers.length);
    return t;
  }

  /** At once: the next request does not see it. */
  remove(t: Tapper): void {
    t.closed = true;
    const i = this.tappers.indexOf(t);
    if (i >= 0) this.tappers.splice(i, 1);
    this.stats.counters.set('tap.tappers_active', this.tappers.length);
  }

  /** Ends every tapper's stream (the proxy is stopping: the admin API cannot close while they are open). */
  closeAll(): void {
    for (const t of [...this.tappers]) {
      this.remove(t);
      t.sink.end();
    }
  }

  /** A new request while someone taps: the tappers that want it (and are under their rate) get its request-init event. */
  start(ex: HttpStream): void {
    const info = ex.info;
    const now = performance.now();
    let chosen: Tapper[] | undefined;
    for (const t of this.tappers) {
      if (!tapMatches(t.match, info.method, info.authority, info.path)) continue;
      if (!t.bucket.take(now)) {
        this.stats.inc('tap.rq_dropped_max_rps');
        continue;
      }
      (chosen ??= []).push(t);
    }
    if (chosen === undefined) return;
    this.stats.inc('tap.rq_tapped', chosen.length);
    const tapped = new TappedStream(this, chosen, { base: 0, stream: this.#seq++ }, ex);
    ex.tap = tapped;
    tapped.emit((headers) => requestInit(tapped.subject, tapped.id, headers));
  }
}

/** One tapped request: who sees it, and when it started and answered. */
export class TappedStream {
  readonly id: TapId;
  readonly subject: TapSubject;
  readonly #hub: TapHub;
  readonly #tappers: readonly Tapper[];
  readonly #startNs: bigint;
  #responseNs: bigint | undefined;

  constructor(hub: TapHub, tappers: readonly Tapper[], id: TapId, ex: HttpStream) {
    this.#hub = hub;
    this.#tappers = tappers;
    this.id = id;
    this.subject = { info: ex.info, inbound: ex.conn.inbound, tls: ex.conn.tls !== undefined, route: ex.route };
    this.#startNs = ex.info.startNs;
  }

  /** The response's headers, as the client gets them (after the filters' encodeHeaders). */
  response(status: number, headers: Headers): void {
    const now = process.hrtime.bigint();
    this.#responseNs = now;
    this.emit((withHeaders) => responseInit(this.subject, this.id, now - this.#startNs, status, withHeaders ? headers : undefined));
  }

  /** The request's end (filters/stream.ts finishStream): once. */
  end(): void {
    const now = process.hrtime.bigint();
    this.emit(() => responseEnd(this.subject, this.id, now - this.#startNs, this.#responseNs === undefined ? 0n : now - this.#responseNs));
  }

  /** Serialises the event at most twice (with and without headers), whatever the number of tappers. */
  emit(build: (withHeaders: boolean) => TapEvent): void {
    const lines: [string | undefined, string | undefined] = [undefined, undefined];
    for (const t of this.#tappers) {
      if (t.closed) continue;
      const h = t.match.headers ? 1 : 0;
      const line = (lines[h] ??= `${JSON.stringify(build(h === 1))}\n`);
      if (!t.sink.write(line)) this.#hub.stats.inc('tap.events_dropped_slow_consumer');
    }
  }
}
