/**
 * GET /tap on the admin API: a live stream of tap events (chunked NDJSON, one
 * Linkerd-shaped TapEvent a line) for the requests the query selects —
 * path, method, authority, max_rps, headers (src/proxy/tap/tap-match.ts).
 * Several tappers at once; one that disconnects is removed at once; one that
 * reads slower than the proxy serves loses events (counted) instead of
 * making the proxy buffer them. Answered to loopback peers only, even when
 * --admin-address is not a loopback address: tap shows other people's
 * requests.
 */
import type http from 'node:http';
import { errorMessage } from '../../errors.js';
import type { TapHub } from '../tap/tap-hub.js';
import { parseTapQuery, type TapMatch } from '../tap/tap-match.js';

/** What a tapper may have sent to it and not yet read before its events are dropped. */
export const MAX_UNREAD_BYTES = 256 * 1024;

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function serveTap(req: http.IncomingMessage, res: http.ServerResponse, url: URL, hub: TapHub): void {
  const plain = { 'content-type': 'text/plain; charset=UTF-8' };
  if (req.method !== 'GET') {
    res.writeHead(405, { ...plain, allow: 'GET' }).end('tap: GET only\n');
    return;
  }
  if (!isLoopback(req.socket.remoteAddress)) {
    res.writeHead(403, plain).end('tap: only from the proxy\'s own host (127.0.0.1)\n');
    return;
  }
  let match: TapMatch;
  try {
    match = parseTapQuery(url.searchParams);
  } catch (err) {
    res.writeHead(400, plain).end(`${errorMessage(err)}\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  // The headers go now: the tapper knows it is subscribed before any request passes.
  res.flushHeaders();
  const tapper = hub.add(match, {
    write(line) {
      if (res.writableLength > MAX_UNREAD_BYTES) return false;
      res.write(line);
      return true;
    },
    end: () => res.end(),
  });
  res.once('close', () => hub.remove(tapper));
}
