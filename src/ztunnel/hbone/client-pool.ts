/**
 * HBONE connections pooled as ztunnel pools them: one key per (source
 * identity, destination identity, destination address), so a connection is
 * never shared by two workloads or used for a peer it was not verified
 * against; up to CLIENT_MAX_STREAMS tunnels on one connection, then another
 * connection; a connection without tunnels for POOL_IDLE_MS is closed.
 * A drained pool (its certificate was replaced) opens no tunnel again and
 * closes each connection as soon as it carries none: ztunnel's connections
 * close that way once its pool lets go of them (hyper's client ends a
 * connection nobody holds when its last stream ends).
 */
import type { ClientHttp2Session } from 'node:http2';
import { TrellisError } from '../../errors.js';
import { CLIENT_MAX_STREAMS, POOL_IDLE_MS } from './settings.js';

interface Entry {
  session: Promise<ClientHttp2Session>;
  active: number;
  idle?: NodeJS.Timeout;
  dead: boolean;
}

export const poolKey = (source: string, destinationIds: readonly string[], address: string): string =>
  JSON.stringify([source, [...destinationIds].sort(), address]);

/** A graceful close: GOAWAY, then the end once no stream is open (node's Http2Session.close). */
const closeGracefully = (e: Entry) => e.session.then((s) => s.close(), () => undefined);

export class ClientPool {
  readonly #entries = new Map<string, Entry[]>();
  readonly #idleMs: number;
  /** Set by drain(): called once the last connection is gone. */
  #drained: (() => void) | undefined;
  #draining: Promise<void> | undefined;

  constructor(idleMs = POOL_IDLE_MS) {
    this.#idleMs = idleMs;
  }

  /** A connection for `key` with room for one more tunnel (made with `open` when none has); release() when the tunnel closes. */
  async acquire(key: string, open: () => Promise<ClientHttp2Session>): Promise<{ session: ClientHttp2Session; release: () => void }> {
    if (this.#draining) throw new TrellisError('HBONE_CONNECT_FAILED', 'HBONE client drained (its certificate was replaced): it opens no more tunnels');
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
      return { session, release: () => !released && (released = true) && this.#release(e) };
    } catch (err) {
      e.active--;
      throw err;
    }
  }

  #release(e: Entry): void {
    if (--e.active > 0) return;
    if (this.#draining) return void closeGracefully(e);
    if (e.dead) return;
    e.idle = setTimeout(() => void closeGracefully(e), this.#idleMs);
    e.idle.unref();
  }

  #drop(key: string, e: Entry): void {
    e.dead = true;
    clearTimeout(e.idle);
    const list = this.#entries.get(key)?.filter((x) => x !== e) ?? [];
    if (list.length) this.#entries.set(key, list);
    else this.#entries.delete(key);
    if (this.#entries.size === 0) this.#drained?.();
  }

  /** Open connections (tests and stats). */
  get size(): number {
    let n = 0;
    for (const list of this.#entries.values()) n += list.length;
    return n;
  }

  /**
   * No new tunnels from now on (acquire fails); each connection sends GOAWAY and closes once its last
   * tunnel ends, idle ones at once; open tunnels are never cut. Resolves when the last connection is gone.
   */
  drain(): Promise<void> {
    if (this.#draining) return this.#draining;
    this.#draining = new Promise((resolve) => (this.#drained = resolve));
    if (this.#entries.size === 0) this.#drained!();
    for (const e of [...this.#entries.values()].flat()) {
      clearTimeout(e.idle);
      if (e.active === 0) void closeGracefully(e);
    }
    return this.#draining;
  }

  /** Destroys every pooled connection. */
  async close(): Promise<void> {
    const all = [...this.#entries.values()].flat();
    this.#entries.clear();
    this.#drained?.();
    await Promise.all(all.map((e) => e.session.then((s) => s.destroy(), () => undefined)));
  }
}
