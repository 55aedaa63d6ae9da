/**
 * The route timeout (RouteAction.timeout), Envoy's way: it spans the whole
 * response. Before the response headers it ends the attempt in flight (504 UT,
 * no retry); once they are in, the timer is handed to the stream and its
 * expiry resets the response mid-body (UT), so a client never takes a cut
 * body for a complete one. The per-try timeout is the attempt's (attempt.ts).
 */
import type { HttpStream } from '../filters/stream.js';
import type { Abort } from '../upstream/abort.js';

/** What the timer acts on: the upstream request's state (forward.ts). */
export interface TimedRequest {
  readonly ex: HttpStream;
  /** The request's signal: aborting it ends the attempt in flight, or the response body. */
  readonly abort: Abort;
  timedOut: boolean;
  /** The response headers were passed on: the body is still covered. */
  handedOff: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Starts the route timeout (0 = none). */
export function startRouteTimeout(r: TimedRequest, ms: number): void {
  if (ms > 0) r.timer = setTimeout(expire, ms, r);
}

function expire(r: TimedRequest): void {
  r.timedOut = true;
  r.ex.routeTimedOut = true;
  if (r.handedOff) r.ex.cluster!.stats.upstream_rq_timeout++;
  r.abort.abort();
}

/** The response headers are in: the stream keeps the timer running until the response ends. */
export function handOffRouteTimeout(r: TimedRequest): void {
  if (r.timer === undefined) return;
  r.handedOff = true;
  r.ex.routeTimer = r.timer;
}

/** The request ended before its response was handed over: the timer stops. */
export function stopRouteTimeout(r: TimedRequest): void {
  if (!r.handedOff) clearTimeout(r.timer);
}
