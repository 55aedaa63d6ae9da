/**
 * The internal listeners (Listener.internal_listener) of the proxy: no socket
 * and no address; `connect()` is their accept — an in-process socket pair
 * (internal/internal-socket.ts) whose server end the listener manager serves
 * like an accepted TCP connection, with the destination and filter state the
 * upstream handed over (internal-conn.ts). Updating one keeps its
 * connections; a removed one is retired (drained) by the listener manager.
 */
import type { Socket } from 'node:net';
import { internalPair } from '../internal/internal-socket.js';
import type { InternalHandoff } from '../internal/filter-state.js';
import type { ConnContext } from './conn-context.js';
import { internalConnContext } from './internal-conn.js';
import type { ListenerPlan } from './listener-plan.js';

export interface InternalListener {
  plan: ListenerPlan;
  /** Open connections and what they carry (for draining). */
  sockets: Map<Socket, ConnContext>;
}

export interface InternalHooks {
  /** Serves an accepted connection (detection, chain, network filters). */
  serve(plan: ListenerPlan, socket: Socket, conn: ConnContext): void;
  /** A listener removed: its connections drain. */
  retire(l: InternalListener): void;
  /** Counts a connection (listener.<name>.downstream_cx_total). */
  count(stat: string): void;
}

export class InternalListeners {
  readonly #byName = new Map<string, InternalListener>();
  readonly #hooks: InternalHooks;

  constructor(hooks: InternalHooks) {
    this.#hooks = hooks;
  }

  /** The complete set of internal listeners from LDS. */
  apply(plans: readonly ListenerPlan[]): void {
    const names = new Set(plans.map((p) => p.name));
    for (const [name, l] of this.#byName) {
      if (names.has(name)) continue;
      this.#byName.delete(name);
      this.#hooks.retire(l);
    }
    for (const p of plans) {
      const l = this.#byName.get(p.name);
      if (l) l.plan = p;
      else this.#byName.set(p.name, { plan: p, sockets: new Map() });
    }
  }

  /** A new connection to `name`: the client end, or an Error when there is no such listener (the upstream's connect fails, UF). */
  connect(name: string, h: InternalHandoff): Socket | Error {
    const l = this.#byName.get(name);
    if (!l) return new Error(`no internal listener ${JSON.stringify(name)}`);
    const { client, server } = internalPair(name, h.endpointId);
    // The ends offer the net.Socket methods the listener, codecs and pools use (internal-socket.ts).
    const socket = server as unknown as Socket;
    const conn = internalConnContext(l.plan, h, server.localAddress);
    this.#hooks.count(l.plan.statCx);
    l.sockets.set(socket, conn);
    socket.once('close', () => l.sockets.delete(socket));
    socket.on('error', () => undefined);
    this.#hooks.serve(l.plan, socket, conn);
    return client as unknown as Socket;
  }

  all(): InternalListener[] {
    return [...this.#byName.values()];
  }

  /** Forgets every listener (the proxy stops; the caller closes their connections). */
  clear(): InternalListener[] {
    const all = this.all();
    this.#byName.clear();
    return all;
  }
}
