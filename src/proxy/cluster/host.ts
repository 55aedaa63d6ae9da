/** One upstream endpoint and its HTTP/1.1 connection pool (the proxy's own, or undici's with TRELLIS_HTTP1_ENGINE=node; created on first use). */
import type { Pool } from 'undici';
import { H2Client } from './h2-client.js';
import { fnv1a } from '../util.js';
import { OutlierState } from './outlier.js';
import type { ConnectionOptions } from 'node:tls';
import { env } from '../../env.js';
import { LeanPool } from '../h1/upstream-pool.js';
import { undiciPool } from './undici-pool.js';
import { h1Exchange, type AbortLike, type H1RequestOptions } from './h1-exchange.js';
import type { UpstreamResponse } from './upstream-response.js';

export interface PoolSettings {
  /** Upper bound of connections to this endpoint (the cluster's max_connections). */
  connections: number;
  connectTimeoutMs: number;
  /** Local address upstream connections are made from (upstream_bind_config). */
  sourceAddress?: string | undefined;
  /** Upstream TLS: tls.connect options with the current secrets, or why there are none yet. */
  tls?: (() => ConnectionOptions | Error) | undefined;
  /** TlsPlan.key: hosts are kept across cluster updates only when it is unchanged. */
  tlsKey?: string | undefined;
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
  #lean: LeanPool | undefined;
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

  /** undici's pool: HTTP/1.1 upstream with TRELLIS_HTTP1_ENGINE=node. */
  get pool(): Pool {
    this.#pool ??= undiciPool(`http://${this.key}`, this.#settings);
    return this.#pool;
  }

  /** One HTTP/1.1 request to this endpoint, on the engine chosen at start-up. */
  exchange(o: H1RequestOptions, signal: AbortLike): Promise<UpstreamResponse> {
    const s = this.#settings;
    // TLS upstreams always use the proxy's own engine (it connects with the secret store's contexts).
    if (env.http1Engine === 'node' && !s.tls) return h1Exchange(this.pool, o, signal);
    this.#lean ??= new LeanPool({ address: this.address, port: this.port, connections: s.connections, connectTimeoutMs: s.connectTimeoutMs, localAddress: s.sourceAddress, tls: s.tls });
    return this.#lean.exchange(o, signal);
  }

  /** One multiplexed HTTP/2 (h2c) connection, for gRPC and clusters configured for HTTP/2. */
  get h2(): H2Client {
    this.#h2 ??= new H2Client(`http://${this.key}`, this.#settings.connectTimeoutMs, this.#settings.sourceAddress, this.#settings.tls);
    return this.#h2;
  }

  /** Lets in-flight requests finish, then closes the connections. */
  async close(): Promise<void> {
    const p = this.#pool;
    const h2 = this.#h2;
    const lean = this.#lean;
    this.#pool = undefined;
    this.#h2 = undefined;
    this.#lean = undefined;
    h2?.close();
    lean?.close();
    await p?.close().catch(() => undefined);
  }
}

/**
 * Only an IPv6 address contains ':' (a host name or an IPv4 address never
 * does): no net.isIPv6, whose first call compiles a large regex — ~30 ms
 * of the proxy's start, paid on the first EDS update.
 */
export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
