/**
 * A TCP relay from this machine's loopback into a network namespace: how
 * the control plane, which runs in the node namespace where pods reach it,
 * is also reachable by the CLI (the state file's addresses). Each accepted
 * connection gets a socket made inside the namespace (connectIn).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connectIn } from '../netns/index.js';

export class Relay {
  readonly #server: Server;
  readonly #open: Set<Socket>;

  private constructor(server: Server, open: Set<Socket>) {
    this.#server = server;
    this.#open = open;
  }

  /** Listens on 127.0.0.1 (`listenPort`, else a free port) and forwards to host:port inside `netns`. */
  static async start(netns: string, host: string, port: number, listenPort = 0): Promise<Relay> {
    const open = new Set<Socket>();
    const server = createServer((client) => {
      let upstream: Socket;
      try {
        upstream = connectIn(netns, host, port);
      } catch {
        client.destroy();
        return;
      }
      for (const s of [client, upstream]) {
        open.add(s);
        s.on('close', () => open.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    return new Relay(server, open);
  }

  get address(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
