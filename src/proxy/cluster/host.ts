/** One upstream endpoint and its HTTP/1.1 connection pool (an undici Pool, created on first use). */
import { Pool } from 'undici';
import { isIPv6 } from 'node:net';

export interface PoolSettings {
  /** Upper bound of connections to this endpoint (the cluster's max_connections). */
  connections: number;
  connectTimeoutMs: number;
}

export class Host {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  weight: number;
  healthy: boolean;
  /** Requests in flight to this endpoint: least-request's load signal. */
  active = 0;
  rqTotal = 0;
  rqError = 0;
  cxConnectFail = 0;
  readonly #settings: PoolSettings;
  #pool: Pool | undefined;

  constructor(address: string, port: number, weight: number, healthy: boolean, settings: PoolSettings) {
    this.address = address;
    this.port = port;
    this.weight = weight;
    this.healthy = healthy;
    this.key = hostKey(address, port);
    this.#settings = settings;
  }

  get settings(): PoolSettings {
    return this.#settings;
  }

  get pool(): Pool {
    this.#pool ??= new Pool(`http://${this.key}`, {
      connections: this.#settings.connections,
      pipelining: 1,
      connect: { timeout: this.#settings.connectTimeoutMs },
      keepAliveTimeout: 60_000,
      // The route timeout governs; undici's own defaults (300 s) must not cut long requests short first.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    return this.#pool;
  }

  /** Lets in-flight requests finish, then closes the connections. */
  async close(): Promise<void> {
    const p = this.#pool;
    this.#pool = undefined;
    if (p) await p.close().catch(() => undefined);
  }
}

export function hostKey(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}
