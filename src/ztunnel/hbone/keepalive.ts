/**
 * HTTP/2 PING keepalive for an HBONE connection, as ztunnel's: the first ping
 * after one interval, the next one interval after each answer, and the
 * session destroyed when an answer takes longer than the timeout. A peer whose
 * network namespace was deleted sends no FIN; without this its connection
 * (and every tunnel on it) would live until TCP gives up, minutes later.
 */
import type { Http2Session } from 'node:http2';
import { PING_INTERVAL_MS, PING_TIMEOUT_MS } from './settings.js';

export interface KeepaliveTiming {
  intervalMs: number;
  timeoutMs: number;
}

export const ISTIO_KEEPALIVE: KeepaliveTiming = { intervalMs: PING_INTERVAL_MS, timeoutMs: PING_TIMEOUT_MS };

/** Starts pinging `session` until it closes. */
export function keepAlive(session: Http2Session, t: KeepaliveTiming = ISTIO_KEEPALIVE): void {
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number, fn: () => void) => {
    timer = setTimeout(fn, ms);
    timer.unref();
  };
  const ping = () => {
    if (session.destroyed || session.closed) return;
    schedule(t.timeoutMs, () => session.destroy(new Error(`HBONE keepalive: no PING answer in ${t.timeoutMs} ms`)));
    const sent = session.ping((err) => {
      clearTimeout(timer);
      if (!err) schedule(t.intervalMs, ping);
    });
    if (!sent) clearTimeout(timer);
  };
  schedule(t.intervalMs, ping);
  session.once('close', () => clearTimeout(timer));
}
