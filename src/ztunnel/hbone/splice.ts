/**
 * Bytes both ways between a tunnel stream and a TCP socket. pipe() gives
 * back-pressure (a full writer pauses the reader, so a fast sender is held
 * to the slow side's pace and nothing piles up in memory) and half-close
 * (one side's end becomes the other's FIN or END_STREAM while the other
 * direction keeps flowing) — which needs the socket made with allowHalfOpen.
 * An error on one side tears down the other: a reset is not a clean end.
 */
import type { Duplex } from 'node:stream';

/** Splices `a` and `b`; resolves once both are closed. */
export function splice(a: Duplex, b: Duplex): Promise<void> {
  a.pipe(b);
  b.pipe(a);
  const closed = (s: Duplex) => new Promise<void>((resolve) => (s.closed || s.destroyed ? resolve() : s.once('close', () => resolve())));
  a.once('error', (err) => b.destroy(err));
  b.once('error', (err) => a.destroy(err));
  // A side closed without both ends (aborted, reset) takes the other with it.
  a.once('close', () => !b.destroyed && (!a.readableEnded || !a.writableFinished) && b.destroy());
  b.once('close', () => !a.destroyed && (!b.readableEnded || !b.writableFinished) && a.destroy());
  return Promise.all([closed(a), closed(b)]).then(() => undefined);
}
