/**
 * HBONE connections pooled as ztunnel pools them: one key per (source
 * identity, destination identity, destination address), so a connection is
 * never shared by two workloads or used for a peer it was not verified
 * against; up to CLIENT_MAX_STREAMS tunnels on one connection, then another
 * connection; a connection without tunnels for POOL_IDLE_MS is closed.
 */
import type { ClientHttp2Session } from 'node:http2';
import { CLIENT_MAX_STREAMS, POOL_IDLE_MS } from './settings.js';

interface Entry {
  session: Promise<ClientHttp2Session>;
  active: number;
  idle?: NodeJS.Timeout;
  dead: boolean;
}

export const poolKey = (source: string, destinationIds: readonly string[], address: string): string =>
  JSON.stringify([source, [...destinationIds].sort(), address]);

export class ClientPool {
  readonly #entries = new Map<string, Entry[]>();
  readonly #idleMs: number;

  constructor(idleMs = POOL_IDLE_MS) {
    this.#idleMs = idleMs;
  }

  /** A connection for `key` with room for one more tunnel (made with `open` when none has); release() when the tunnel closes. */
  async acquire(key: string, open: () => Promise<ClientHttp2Session>): Promise<{ session: ClientHttp2Session; release: () => void }> {
    const list = this.#entries.get(key) ?? [];
    this.#entries.set(key, list);
    let entry = list.find((e) => !e.dead && e.active < CLIENT_MAX_STREAMS);
    if (!entry) {
      const created: Entry = { session: open(), active: 0, dead: false };
      entry = created;
      list.push(created);
      const drop = () => this.#drop(key, created);
      // A GOAWAY'd connection takes no new tunnels (its open ones finish on it): out of the pool at once.
      created.session.then((s) => (s.closed || s.destroyed ? drop() : (s.once('close', drop), s.once('goaway', drop))), drop);
    }
    entry.active++;
    clearTimeout(entry.idle);
    const e = entry;
    try {
      const session = await e.session;
      let released = false;
      return { session, release: () => !released && (released = true) && this.#release(e, session) };
    } catch (err) {
      e.active--;
      throw err;
    }
  }

  #release(e: Entry, session: ClientHttp2Session): void {
    if (--e.active > 0 || e.dead) return;
    e.idle = setTimeout(() => session.close(), this.#idleMs);
    e.idle.unref();
  }

  #drop(key: string, e: Entry): void {
    e.dead = true;
    clearTimeout(e.idle);
    const list = this.#entries.get(key)?.filter((x) => x !== e) ?? [];
    if (list.length) this.#entries.set(key, list);
    else this.#entries.delete(key);
  }

  /** Open connections (tests and stats). */
  get size(): number {
    let n = 0;
    for (const list of this.#entries.values()) n += list.length;
    return n;
  }

  /** Destroys every pooled connection. */
  async close(): Promise<void> {
    const all = [...this.#entries.values()].flat();
    this.#entries.clear();
    await Promise.all(all.map((e) => e.session.then((s) => s.destroy(), () => undefined)));
  }
}
