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
import type { Socket } from 'node:net';
import type { JsonObject } from '@bufbuild/protobuf';
import { handoff, type InternalDialer, type InternalUpstreamPlan } from '../internal/internal-upstream.js';
import type { FilterState } from '../internal/filter-state.js';

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
  /** The transport socket is internal_upstream: connections are in-process, to the endpoint's internal listener. */
  internal?: InternalUpstreamPlan | undefined;
  dialInternal?: InternalDialer | undefined;
  clusterMetadata?: Record<string, JsonObject> | undefined;
}

/** An envoy_internal_address endpoint: the listener it names, its endpoint_id, its filter_metadata. */
export interface InternalTarget {
  listener: string;
  endpointId: string;
  metadata: Record<string, JsonObject> | undefined;
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
  readonly internal: InternalTarget | undefined;
  #h1: H1Pool | undefined;
  readonly #byState = new Map<string, StatePools>();
  #h2: H2Client | undefined;

  constructor(address: string, port: number, weight: number, healthy: boolean, settings: PoolSettings, internal?: InternalTarget) {
    this.address = address;
    this.internal = internal;
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

  /**
   * An in-process connection to this endpoint's internal listener, carrying what the transport socket passes
   * through (and `filterState` shared by the downstream); an Error when the endpoint is no internal listener's or
   * its cluster's transport socket is not internal_upstream (Envoy cannot connect such an endpoint either).
   */
  dialInternal(filterState?: FilterState): Socket | Error {
    const s = this.#settings;
    const t = this.internal;
    if (!t) return new Error(`${this.key} is not an internal address`);
    if (!s.internal || !s.dialInternal) return new Error(`${this.key}: an internal address needs the internal_upstream transport socket`);
    return s.dialInternal(t.listener, handoff(s.internal, t.endpointId, t.metadata, s.clusterMetadata, filterState));
  }

  /**
   * One HTTP/1.1 request to this endpoint. `shared`: the filter state the downstream shares with upstream; an
   * internal endpoint gets a pool per distinct state (as Envoy keys its pools by it), so that each connection
   * carries its requests' state — istiod's waypoint passes a pod's address to connect_originate that way.
   */
  exchange(o: UpstreamRequestOptions, signal: AbortLike, shared?: FilterState): Promise<UpstreamResponse> {
    if (shared && this.internal) return this.#statePools(shared).exchange(o, signal);
    this.#h1 ??= this.#newH1();
    return this.#h1.exchange(o, signal);
  }

  /** One multiplexed HTTP/2 (h2c) connection, for gRPC and clusters configured for HTTP/2 (per shared state, as exchange). */
  h2(shared?: FilterState): H2Client {
    if (shared && this.internal) return this.#statePools(shared).h2;
    this.#h2 ??= this.#newH2();
    return this.#h2;
  }

  #newH1(shared?: FilterState): H1Pool {
    const s = this.#settings;
    const dial = this.internal ? () => this.dialInternal(shared) : undefined;
    return new H1Pool({ address: this.address, port: this.port, connections: s.connections, connectTimeoutMs: s.connectTimeoutMs, localAddress: s.sourceAddress, tls: s.tls, keepalive: s.keepalive, dial });
  }

  #newH2(shared?: FilterState): H2Client {
    const s = this.#settings;
    const dial = this.internal ? () => this.dialInternal(shared) : undefined;
    return new H2Client(this.internal ? 'http://internal' : `http://${this.key}`, s.connectTimeoutMs, s.sourceAddress, s.tls, s.keepalive, dial);
  }

  /** The pools of one shared filter state; the oldest state's are closed past MAX_STATE_POOLS. */
  #statePools(shared: FilterState): StatePools {
    const key = JSON.stringify([...shared].sort(([a], [b]) => (a < b ? -1 : 1)));
    let p = this.#byState.get(key);
    if (!p) {
      if (this.#byState.size >= MAX_STATE_POOLS) {
        const [oldest, pools] = this.#byState.entries().next().value!;
        this.#byState.delete(oldest);
        pools.close();
      }
      p = new StatePools(() => this.#newH1(shared), () => this.#newH2(shared));
      this.#byState.set(key, p);
    }
    return p;
  }

  /** Lets in-flight requests finish, then closes the connections. */
  async close(): Promise<void> {
    const h2 = this.#h2;
    const h1 = this.#h1;
    this.#h2 = undefined;
    this.#h1 = undefined;
    h2?.close();
    h1?.close();
    for (const p of this.#byState.values()) p.close();
    this.#byState.clear();
  }
}

/** Envoy bounds nothing here; one waypoint's destinations are few, and idle pools cost little: 256 is plenty. */
const MAX_STATE_POOLS = 256;

/** An internal endpoint's pools for one shared filter state, each made on first use. */
class StatePools {
  #h1: H1Pool | undefined;
  #h2: H2Client | undefined;

  constructor(readonly newH1: () => H1Pool, readonly newH2: () => H2Client) {}

  exchange(o: UpstreamRequestOptions, signal: AbortLike): Promise<UpstreamResponse> {
    this.#h1 ??= this.newH1();
    return this.#h1.exchange(o, signal);
  }

  get h2(): H2Client {
    this.#h2 ??= this.newH2();
    return this.#h2;
  }

  close(): void {
    this.#h1?.close();
    this.#h2?.close();
  }
}

/**
 * Only an IPv6 address contains ':' (a host name or an IPv4 address never
 * does): no net.isIPv6, whose first call compiles a large regex — ~30 ms
 * of the proxy's start, paid on the first EDS update.
 */
export function hostKey(address: string, port: number): string {
  // "envoy://LISTENER/ID" (an internal address, port 0) is its own key, as Envoy prints it.
  if (port === 0 && address.startsWith('envoy://')) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
