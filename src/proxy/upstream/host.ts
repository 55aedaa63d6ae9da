/** One upstream endpoint and its connection pools: HTTP/1.1 (h1/pool.ts) and HTTP/2, each created on first use. */
import { H2Client } from './h2-client.js';
import { fnv1a } from '../util.js';
import { OutlierState } from './outlier.js';
import type { ConnectionOptions } from 'node:tls';
import type { KeepalivePlan } from './keepalive.js';
import { H1Pool } from './h1/pool.js';
import type { UpstreamRequestOptions } from './request.js';
import type { AbortLike } from './abort.js';
import type { UpstreamResponse } from './response.js';

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
  /** TCP keepalive on every connection to the endpoint (the cluster's upstream_connection_options). */
  keepalive?: KeepalivePlan | undefined;
}

export class Host {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** Stable per-endpoint value for consistent hashing. */
  readonly hashSeed: number;
  weight: number;
  healthy: boolean;
  /** Its LocalityLbEndpoints' priority, locality (index in the assignment) and locality weight. */
  priority = 0;
  locality = 0;
  localityWeight: number | undefined;
  /** Requests in flight to this endpoint: least-request's load signal. */
  active = 0;
  rqTotal = 0;
  /** Outlier detection state, when the cluster has it configured. */
  readonly outlier = new OutlierState();
  rqError = 0;
  cxConnectFail = 0;
  readonly #settings: PoolSettings;
  #h1: H1Pool | undefined;
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

  /** One HTTP/1.1 request to this endpoint. */
  exchange(o: UpstreamRequestOptions, signal: AbortLike): Promise<UpstreamResponse> {
    const s = this.#settings;
    this.#h1 ??= new H1Pool({ address: this.address, port: this.port, connections: s.connections, connectTimeoutMs: s.connectTimeoutMs, localAddress: s.sourceAddress, tls: s.tls, keepalive: s.keepalive });
    return this.#h1.exchange(o, signal);
  }

  /** One multiplexed HTTP/2 (h2c) connection, for gRPC and clusters configured for HTTP/2. */
  get h2(): H2Client {
    const s = this.#settings;
    this.#h2 ??= new H2Client(`http://${this.key}`, s.connectTimeoutMs, s.sourceAddress, s.tls, s.keepalive);
    return this.#h2;
  }

  /** Lets in-flight requests finish, then closes the connections. */
  async close(): Promise<void> {
    const h2 = this.#h2;
    const h1 = this.#h1;
    this.#h2 = undefined;
    this.#h1 = undefined;
    h2?.close();
    h1?.close();
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
