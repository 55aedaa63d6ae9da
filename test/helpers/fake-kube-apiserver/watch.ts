/**
 * A watch response: HTTP 200, chunked, one JSON {type, object} per line.
 *   - resourceVersion unset or "0": synthetic ADDED events for what exists
 *     now, then every change ("Get State and Start at Most Recent/Any");
 *   - resourceVersion N: every change after N ("Start at Exact"); if N was
 *     compacted away, one ERROR event carrying a 410 Expired Status, then
 *     the stream ends, as the watch cache answers;
 *   - allowWatchBookmarks=true: BOOKMARK events now and then, whose object
 *     has only kind, apiVersion and metadata.resourceVersion;
 *   - timeoutSeconds: the server ends the stream then.
 * Field selectors as field-selector.ts reads them; label selectors are not
 * implemented: a request with one is refused (400), never answered wrongly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersion } from './kinds.js';
import { present } from './present.js';
import { selectorFilter } from './field-selector.js';
import { ApiFailure } from './status.js';
import type { Route } from './routes.js';
import type { Store, StoreEvent } from './store.js';

export interface WatchOptions {
  bookmarkIntervalMs: number;
  /** Registered so the test can drop every open watch. */
  track: (res: ServerResponse) => () => void;
}

export function serveWatch(store: Store, route: Route, query: URLSearchParams, res: ServerResponse, _req: IncomingMessage, o: WatchOptions): void {
  const selected = selectorFilter(route.def, query);
  const { def, version, namespace } = route;
  const rvParam = query.get('resourceVersion') ?? '';
  // Nothing is written once the stream has ended (timeoutSeconds) or been cut; the real server stops its watcher then too.
  const send = (type: string, object: unknown) => void (res.writableEnded || res.destroyed || res.write(`${JSON.stringify({ type, object })}\n`));
  // The fields selected on here (name, namespace, a Secret's type) never change: an object never moves in or out.
  const mine = (e: StoreEvent) => e.def === def && (namespace === undefined || e.obj.metadata.namespace === namespace) && selected(e.obj);

  // Subscribe first, so that nothing written between the backlog and the live feed is lost.
  const buffered: StoreEvent[] = [];
  let live = false;
  let lastSent = 0;
  const deliver = (e: StoreEvent) => {
    if (!mine(e) || e.rv <= lastSent) return;
    lastSent = e.rv;
    send(e.type, present(def, version, e.obj));
  };
  const unsubscribe = store.subscribe((e) => (live ? deliver(e) : buffered.push(e)));
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  // kube-apiserver flushes the headers at once: a client's watch is established before the first event.
  res.flushHeaders();

  let backlog: StoreEvent[];
  if (rvParam === '' || rvParam === '0') {
    const { rv, items } = store.list(def, namespace);
    backlog = items.filter(selected).map((obj) => ({ rv, type: 'ADDED' as const, def, obj }));
    for (const e of backlog) send('ADDED', present(def, version, e.obj));
    lastSent = rv;
  } else {
    try {
      backlog = store.eventsSince(def, Number(rvParam));
    } catch (err) {
      unsubscribe();
      if (!(err instanceof ApiFailure)) throw err;
      send('ERROR', err.status);
      res.end();
      return;
    }
    lastSent = Number(rvParam);
    for (const e of backlog) deliver(e);
  }
  for (const e of buffered) deliver(e);
  live = true;

  const timers: NodeJS.Timeout[] = [];
  if (query.get('allowWatchBookmarks') === 'true') {
    timers.push(setInterval(() => send('BOOKMARK', { kind: def.kind, apiVersion: apiVersion(def, version), metadata: { resourceVersion: String(store.rv) } }), o.bookmarkIntervalMs));
  }
  const timeout = Number(query.get('timeoutSeconds') ?? '0');
  if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
  const untrack = o.track(res);
  res.on('close', () => {
    unsubscribe();
    untrack();
    for (const t of timers) clearTimeout(t);
  });
}
