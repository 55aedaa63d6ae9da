/** One upstream endpoint and its HTTP/1.1 connection pool (an undici Pool, created on first use). */
import { Pool } from 'undici';
import { H2Client } from './h2-client.js';
import { fnv1a } from '../util.js';
import { OutlierState } from './outlier.js';
import { isIPv6 } from 'node:net';
import { env } from '../../env.js';
import { attachLeanPool, leanPoolOf } from '../h1/upstream-pool.js';

export interface PoolSettings {
  /** Upper bound of connections to this endpoint (the cluster's max_connections). */
  connections: number;
  connectTimeoutMs: number;
  /** Local address upstream connections are made from (upstream_bind_config). */
  sourceAddress?: string | undefined;
}

export class Host {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** Stable per-endpoint value for consistent hashing. */
  readonly hashSeed: number;
  weight: number;
  healthy: boolean;
  /** Requests in flight to this endpoint: least-request's load signal. */
  active = 0;
  rqTotal = 0;
  /** Outlier detection state, when the cluster has it configured. */
  readonly outlier = new OutlierState();
  rqError = 0;
  cxConnectFail = 0;
  readonly #settings: PoolSettings;
  #pool: Pool | undefined;
  #h2: H2Client | undefined;

  constructor(address: string, port: number, weight: number, healthy: boolean, settings: PoolSettings) {
    this.address = address;
    this.port = port;
    this.weight = weight;
    this.healthy = healthy;
    this.key = hostKey(address, port);
    this.hashSeed = fnv1a(this.key);
    this.#settings = settings;
  }

  get settings(): PoolSettings {
    return this.#settings;
  }

  get pool(): Pool {
    if (this.#pool) return this.#pool;
    this.#pool = new Pool(`http://${this.key}`, {
      connections: this.#settings.connections,
      pipelining: 1,
      connect: { timeout: this.#settings.connectTimeoutMs },
      localAddress: this.#settings.sourceAddress,
      keepAliveTimeout: 60_000,
      // The route timeout governs; undici's own defaults (300 s) must not cut long requests short first.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    // TRELLIS_HTTP1_ENGINE=lean: h1Exchange finds this pool by the undici Pool it is given (mirrors keep undici).
    if (env.http1Engine === 'lean') {
      const s = this.#settings;
      attachLeanPool(this.#pool, { address: this.address, port: this.port, connections: s.connections, connectTimeoutMs: s.connectTimeoutMs, localAddress: s.sourceAddress });
    }
    return this.#pool;
  }

  /** One multiplexed HTTP/2 (h2c) connection, for gRPC and clusters configured for HTTP/2. */
  get h2(): H2Client {
    this.#h2 ??= new H2Client(`http://${this.key}`, this.#settings.connectTimeoutMs, this.#settings.sourceAddress);
    return this.#h2;
  }

  /** Lets in-flight requests finish, then closes the connections. */
  async close(): Promise<void> {
    const p = this.#pool;
    const h2 = this.#h2;
    this.#pool = undefined;
    this.#h2 = undefined;
    h2?.close();
    if (p) leanPoolOf(p)?.close();
    await p?.close().catch(() => undefined);
  }
}

export function hostKey(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}
