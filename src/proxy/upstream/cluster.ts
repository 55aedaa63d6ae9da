/**
 * A cluster as the proxy runs it: its endpoints (each with a pool), its load
 * balancer, circuit breaker counters and Envoy-style statistics.
 */
import { DefaultOverprovisioningFactor, type ClusterPlan, type EndpointSpec } from './cluster-plan.js';
import { PrioritySet } from './priority-set.js';
import { Host, hostKey, type PoolSettings } from './host.js';
import type { SecretStore } from '../tls/secret-store.js';
import type { TlsPlan } from '../tls/tls-plan.js';
import { resolveSocket } from './socket-match.js';
import { createLoadBalancer, type LoadBalancer } from './load-balancer.js';
import { ejectionMs, recordResult, type AttemptResult } from './outlier.js';
import type { DnsStats } from './dns/dns-discovery.js';
import type { InternalDialer } from '../internal/internal-upstream.js';
import { originalDstTarget, type DstSources } from './original-dst-lb.js';

/** Envoy's cluster.<name>.* counters (the subset we maintain; update_* and membership_change are counted by DNS clusters). */
export interface ClusterStats extends DnsStats {
  upstream_rq_total: number;
  upstream_rq_2xx: number;
  upstream_rq_3xx: number;
  upstream_rq_4xx: number;
  upstream_rq_5xx: number;
  upstream_rq_timeout: number;
  upstream_rq_retry: number;
  upstream_rq_retry_overflow: number;
  /** A request body too large to keep for a retry or mirror (router/request-body.ts). */
  retry_or_shadow_abandoned: number;
  upstream_rq_pending_overflow: number;
  upstream_cx_connect_fail: number;
  upstream_rq_rx_reset: number;
  upstream_cx_none_healthy: number;
  outlier_detection_ejections_enforced_total: number;
}

const zeroStats = (): ClusterStats => ({
  upstream_rq_total: 0, upstream_rq_2xx: 0, upstream_rq_3xx: 0, upstream_rq_4xx: 0, upstream_rq_5xx: 0,
  upstream_rq_timeout: 0, upstream_rq_retry: 0, upstream_rq_retry_overflow: 0, retry_or_shadow_abandoned: 0,
  upstream_rq_pending_overflow: 0,
  upstream_cx_connect_fail: 0, upstream_rq_rx_reset: 0, upstream_cx_none_healthy: 0, outlier_detection_ejections_enforced_total: 0,
  update_attempt: 0, update_success: 0, update_failure: 0, update_no_rebuild: 0, membership_change: 0,
});

const ORIGINAL_DST_MAX_HOSTS = 1024;

export class UpstreamCluster {
  readonly plan: ClusterPlan;
  readonly stats: ClusterStats;
  readonly #lb: LoadBalancer;
  /**
   * By endpoint and transport socket ("addr:port" or "addr:port#match"): an endpoint whose socket
   * changes is a new host, so mTLS and plaintext connections never share a pool.
   */
  readonly #hosts = new Map<string, Host>();
  #healthy: Host[] = [];
  /** Set when hosts span several priorities or localities are weighted; else #healthy is the whole story. */
  #priorities: PrioritySet | undefined;
  #overprovisioningFactor = DefaultOverprovisioningFactor;
  /** Pool settings per transport socket: index i for socketMatches[i], the last for the cluster's own. */
  readonly #settings: PoolSettings[];
  /** The socket of endpoints without metadata (ORIGINAL_DST hosts). */
  readonly #bareSocket: number;
  /** Requests admitted and not finished (Envoy's rq_active). */
  active = 0;
  retriesActive = 0;

  constructor(plan: ClusterPlan, previous?: UpstreamCluster, secrets?: SecretStore, dialInternal?: InternalDialer) {
    this.plan = plan;
    this.stats = previous?.stats ?? zeroStats();
    this.#lb = createLoadBalancer(plan.lb);
    const settings = (tls: TlsPlan | undefined, internal: ClusterPlan['internal']): PoolSettings => ({
      connections: plan.thresholds.maxConnections,
      connectTimeoutMs: plan.connectTimeoutMs,
      sourceAddress: plan.sourceAddress,
      tls: tls ? () => (secrets ? secrets.clientOptions(tls) : new Error('no secret store for upstream TLS')) : undefined,
      tlsKey: tls?.key,
      keepalive: plan.keepalive,
      internal,
      dialInternal,
      clusterMetadata: plan.metadata,
    });
    this.#settings = [...plan.socketMatches.map((m) => settings(m.tls, m.internal)), settings(plan.tls, plan.internal)];
    this.#bareSocket = this.#socketOf(undefined, undefined);
    if (plan.type === 'STATIC') this.setEndpoints(plan.staticEndpoints);
  }

  /** Index into #settings for an endpoint's transport socket match metadata. */
  #socketOf(endpoint: EndpointSpec['socketMatch'], locality: EndpointSpec['localitySocketMatch']): number {
    const i = resolveSocket(this.plan.socketMatches, endpoint, locality);
    return i < 0 ? this.#settings.length - 1 : i;
  }

  #poolKey(key: string, socket: number): string {
    return this.#settings.length === 1 ? key : `${key}#${socket}`;
  }

  /** Reuses the hosts (and their open connections) of `previous` when the pool settings did not change. */
  adoptHosts(previous: UpstreamCluster): Host[] {
    const dropped: Host[] = [];
    const p = previous.#settings;
    const n = this.#settings;
    const same = p.length === n.length && p.every((a, i) => {
      const b = n[i];
      return a.connections === b.connections && a.connectTimeoutMs === b.connectTimeoutMs && a.sourceAddress === b.sourceAddress && a.tlsKey === b.tlsKey
        && a.keepalive?.key === b.keepalive?.key;
    });
    for (const [k, h] of previous.#hosts) {
      if (same && this.plan.type !== 'STATIC') this.#hosts.set(k, h);
      else dropped.push(h);
    }
    this.#refreshHealthy();
    return dropped;
  }

  /** Replaces the endpoint set; returns hosts no longer used (the caller closes them gracefully). */
  setEndpoints(specs: readonly EndpointSpec[], overprovisioningFactor = DefaultOverprovisioningFactor): Host[] {
    this.#overprovisioningFactor = overprovisioningFactor;
    const next = new Map<string, Host>();
    for (const s of specs) {
      const socket = this.#socketOf(s.socketMatch, s.localitySocketMatch);
      const key = this.#poolKey(hostKey(s.address, s.port), socket);
      const internal = s.internal ? { ...s.internal, metadata: s.metadata } : undefined;
      const h = this.#hosts.get(key) ?? new Host(s.address, s.port, s.weight, s.healthy, this.#settings[socket], internal);
      h.weight = s.weight;
      h.healthy = s.healthy;
      h.priority = s.priority ?? 0;
      h.locality = s.locality ?? 0;
      h.localityWeight = s.localityWeight;
      next.set(key, h);
    }
    const dropped = [...this.#hosts].filter(([k]) => !next.has(k)).map(([, h]) => h);
    this.#hosts.clear();
    for (const [k, h] of next) this.#hosts.set(k, h);
    this.#refreshHealthy();
    return dropped;
  }

  #refreshHealthy(): void {
    const all = [...this.#hosts.values()];
    if (this.plan.localityWeighted || all.some((h) => h.priority !== 0)) {
      this.#priorities = new PrioritySet(all, {
        panicThresholdPercent: this.plan.panicThresholdPercent,
        overprovisioningFactor: this.#overprovisioningFactor,
        localityWeighted: this.plan.localityWeighted,
      });
      return;
    }
    this.#priorities = undefined;
    const healthy = all.filter((h) => h.healthy && !h.outlier.ejected);
    // Panic mode: with too few healthy endpoints Envoy balances over all of them.
    this.#healthy = all.length > 0 && (healthy.length * 100) / all.length < this.plan.panicThresholdPercent ? all : healthy;
  }

  /** Feeds outlier detection with one attempt's result; ejects the endpoint when a threshold is crossed. */
  report(host: Host, result: AttemptResult): void {
    const od = this.plan.outlier;
    if (!od || !recordResult(od, host.outlier, result) || host.outlier.ejected) return;
    const hosts = [...this.#hosts.values()];
    const ejected = hosts.filter((h) => h.outlier.ejected).length;
    if (ejected > 0 && (ejected * 100) / hosts.length >= od.maxEjectionPercent) return;
    const s = host.outlier;
    s.ejected = true;
    s.ejections++;
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
    this.stats.outlier_detection_ejections_enforced_total++;
    this.#refreshHealthy();
    s.timer = setTimeout(() => {
      s.ejected = false;
      this.#refreshHealthy();
    }, ejectionMs(od, s.ejections));
    s.timer.unref();
  }

  /**
   * Marks the hosts ("addr:port") another proxy reported as ejected by outlier
   * detection (its /clusters), so `pick` balances as that proxy does; no
   * timer brings them back.
   */
  markEjected(keys: ReadonlySet<string>): void {
    for (const h of this.#hosts.values()) if (keys.has(h.key)) h.outlier.ejected = true;
    this.#refreshHealthy();
  }

  get hosts(): readonly Host[] {
    return [...this.#hosts.values()];
  }

  /**
   * Picks an endpoint; ORIGINAL_DST clusters use the connection's original destination, or what their
   * original_dst_lb_config reads from `dst` (a request header, dynamic metadata), its port overridden.
   */
  pick(originalDst: { address: string; port: number } | undefined, hash?: number, dst?: Omit<DstSources, 'local'>): Host | undefined {
    if (this.plan.type === 'ORIGINAL_DST') {
      const target = originalDst ? originalDstTarget(this.plan.originalDstLb, { local: originalDst, ...dst }) : undefined;
      if (!target) return undefined;
      const key = this.#poolKey(hostKey(target.host, target.port), this.#bareSocket);
      let h = this.#hosts.get(key);
      if (!h) {
        if (this.#hosts.size >= ORIGINAL_DST_MAX_HOSTS) this.#evictIdle();
        h = new Host(target.host, target.port, 1, true, this.#settings[this.#bareSocket]);
        this.#hosts.set(key, h);
      }
      return h;
    }
    if (this.#priorities) return this.#priorities.pick(this.#lb, hash, Math.random() * 100);
    return this.#healthy.length === 0 ? undefined : this.#lb.pick(this.#healthy, hash);
  }

  /** ORIGINAL_DST hosts come and go with traffic; idle ones are dropped (Envoy: cleanup_interval). */
  #evictIdle(): void {
    for (const [k, h] of this.#hosts) {
      if (h.active > 0) continue;
      this.#hosts.delete(k);
      void h.close();
    }
  }

  /**
   * Circuit breaker admission (HTTP/1.1: one request per connection, so
   * requests beyond max_connections are pending). False = overflow, answer 503 UO.
   */
  admit(): boolean {
    const t = this.plan.thresholds;
    if (this.active >= t.maxRequests) return false;
    if (this.active >= t.maxConnections && this.active - t.maxConnections >= t.maxPendingRequests) return false;
    this.active++;
    return true;
  }

  release(): void {
    this.active--;
  }

  admitRetry(): boolean {
    if (this.retriesActive >= this.plan.thresholds.maxRetries) return false;
    this.retriesActive++;
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#hosts.values()].map((h) => h.close()));
  }
}
