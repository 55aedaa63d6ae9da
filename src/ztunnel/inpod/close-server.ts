/**
 * Listening servers whose accepted connections are remembered, so that a
 * removed pod keeps nothing open (net.Server.close() only stops accepting).
 */
import type { Server, Socket } from 'node:net';

const accepted = new WeakMap<Server, Set<Socket>>();

/** Remembers `s`'s connections from now on; returns it. */
export function tracked(s: Server): Server {
  const set = new Set<Socket>();
  accepted.set(s, set);
  s.on('connection', (c: Socket) => {
    set.add(c);
    c.once('close', () => set.delete(c));
  });
  return s;
}

/** Stops accepting and destroys the connections it accepted. */
export function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    for (const c of accepted.get(s) ?? []) c.destroy();
  });
}
