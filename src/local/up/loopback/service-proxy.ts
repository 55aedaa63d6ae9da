/**
 * kube-proxy's part in loopback mode, for pods without a sidecar: a
 * userspace proxy (kube-proxy's oldest mode) listening on each Service
 * port at the pod's view address, handing each connection to the next
 * ready backend (round robin). Pods with a sidecar never use it: their
 * proxy listens on their view itself.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { logger } from '../../../log.js';

const log = logger('up');

interface Entry {
  server: Server;
  backends: { ip: string; port: number }[];
  next: number;
}

export class ServiceProxy {
  readonly #entries = new Map<string, Entry>();
  readonly #open = new Set<Socket>();

  /**
   * Makes the listeners exactly `want` ("ADDR:PORT" → backends): new ones
   * are opened, gone ones closed, the rest get their new backends.
   */
  async set(want: ReadonlyMap<string, { ip: string; port: number }[]>): Promise<void> {
    for (const [key, e] of this.#entries) {
      if (!want.has(key)) {
        e.server.close();
        this.#entries.delete(key);
      }
    }
    for (const [key, backends] of want) {
      const e = this.#entries.get(key);
      if (e) e.backends = backends;
      else await this.#open1(key, backends);
    }
  }

  async #open1(key: string, backends: { ip: string; port: number }[]): Promise<void> {
    const i = key.lastIndexOf(':');
    const entry: Entry = { server: createServer((c) => this.#relay(entry, c)), backends, next: 0 };
    try {
      await new Promise<void>((resolve, reject) => {
        entry.server.once('error', reject);
        entry.server.listen(Number(key.slice(i + 1)), key.slice(0, i), () => resolve());
      });
      this.#entries.set(key, entry);
    } catch (err) {
      log.warn('service proxy cannot listen', { address: key, error: String(err) });
    }
  }

  #relay(e: Entry, client: Socket): void {
    if (e.backends.length === 0) {
      client.destroy();
      return;
    }
    const b = e.backends[e.next++ % e.backends.length]!;
    const upstream = connect(b.port, b.ip);
    for (const s of [client, upstream]) {
      this.#open.add(s);
      s.on('close', () => this.#open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }

  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    await Promise.all([...this.#entries.values()].map((e) => new Promise<void>((r) => e.server.close(() => r()))));
    this.#entries.clear();
  }
}
