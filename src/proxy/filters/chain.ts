/**
 * Runs a connection manager's HTTP filters in order: decodeHeaders from the
 * first filter to the router (or the filter that stops), and encodeHeaders
 * back through the filters that ran, in reverse order, before a response's
 * headers are written. The filter list and the position reached are on the
 * stream: nothing is allocated per request.
 */
import type { Headers } from '../router/header-ops.js';
import { STOP } from './filter.js';
import type { HttpStream } from './stream.js';

/** Starts the request down the chain. */
export function decodeHeaders(stream: HttpStream): void {
  run(stream, 0);
}

/** Resumes the chain after the filter that stopped (a fault delay that ended). */
export function continueDecoding(stream: HttpStream): void {
  run(stream, stream.filterIndex + 1);
}

function run(stream: HttpStream, from: number): void {
  const filters = stream.filters;
  for (let i = from; i < filters.length; i++) {
    stream.filterIndex = i;
    if (filters[i]!.decodeHeaders(stream) === STOP) return;
  }
}

/** The response's headers pass the filters before the one that produced the response, last to first. */
export function encodeHeaders(stream: HttpStream, status: number, headers: Headers): void {
  const filters = stream.filters;
  for (let i = stream.filterIndex - 1; i >= 0; i--) filters[i]!.encodeHeaders?.(stream, status, headers);
  // Every response's headers pass here just before they are written: the tap's response-init event.
  if (stream.tap !== undefined) stream.tap.response(status, headers);
}
