/**
 * Holds the running clusters: applies CDS (make-before-break: hosts and their
 * connections carry over when a cluster changes) and EDS, and keeps DNS
 * clusters resolving. A new or changed STRICT_DNS / LOGICAL_DNS cluster warms
 * first, as in Envoy: it is put in service (replacing its previous version,
 * which serves meanwhile) once its first resolution completed or failed.
 */
import { logger } from '../../log.js';
import type { ClusterPlan, EndpointsPlan } from './cluster-plan.js';
import type { Host } from './host.js';
import { UpstreamCluster } from './cluster.js';
import type { InternalDialer } from '../internal/internal-upstream.js';
import type { SecretStore } from '../tls/secret-store.js';
import { DnsDiscovery } from './dns/dns-discovery.js';

const log = logger('cluster');

export class ClusterManager {
  readonly #clusters = new Map<string, UpstreamCluster>();
  /** DNS clusters waiting for their first resolution, by name (at most one version each). */
  readonly #warming = new Map<string, UpstreamCluster>();
  /** The resolver of each DNS cluster, warming or in service. */
  readonly #discovery = new Map<UpstreamCluster, DnsDiscovery>();
  /** Latest EDS assignments by resource name, kept even before their cluster exists. */
  #endpoints = new Map<string, EndpointsPlan>();
  readonly #secrets: SecretStore | undefined;
  readonly #updated = new Set<() => void>();

  /** `secrets`: where clusters with upstream TLS find their certificates (SDS). */
  readonly #dialInternal: InternalDialer | undefined;

  /** `dialInternal`: in-process connections to internal listeners (endpoints with an envoy_internal_address). */
  constructor(secrets?: SecretStore, dialInternal?: InternalDialer) {
    this.#secrets = secrets;
    this.#dialInternal = dialInternal;
  }

  get(name: string): UpstreamCluster | undefined {
    return this.#clusters.get(name);
  }

  all(): IterableIterator<UpstreamCluster> {
    return this.#clusters.values();
  }

  /**
   * Whether the router can use the cluster now: it is in service (a DNS cluster once warm) and, for
   * EDS, its ClusterLoadAssignment arrived — in Envoy an EDS cluster warms until then, and only a warm
   * cluster reaches the workers (what on-demand discovery waits for).
   */
  usable(name: string): boolean {
    const c = this.#clusters.get(name);
    return c !== undefined && (c.plan.edsName === undefined || this.#endpoints.has(c.plan.edsName));
  }

  /** The cluster arrived over CDS, in service or still warming. */
  known(name: string): boolean {
    return this.#clusters.has(name) || this.#warming.has(name);
  }

  /** Calls `fn` after every change of clusters or endpoints; returns what stops it. */
  onUpdate(fn: () => void): () => void {
    this.#updated.add(fn);
    return () => this.#updated.delete(fn);
  }

  #changed(): void {
    for (const fn of this.#updated) fn();
  }

  /** How many clusters are warming (readiness waits for none, as Envoy's initialisation does). */
  get warming(): number {
    return this.#warming.size;
  }

  applyClusters(plans: Iterable<ClusterPlan>): void {
    const next = new Map<string, ClusterPlan>();
    for (const p of plans) next.set(p.name, p);
    const retired: Host[] = [];
    for (const [name, c] of this.#clusters) {
      if (!next.has(name)) {
        this.#clusters.delete(name);
        this.#stopDiscovery(c);
        void c.close();
      }
    }
    for (const [name, w] of this.#warming) if (!samePlan(w.plan, next.get(name))) this.#cancelWarming(name);
    for (const plan of next.values()) {
      const prev = this.#clusters.get(plan.name);
      if ((prev && samePlan(prev.plan, plan)) || this.#warming.has(plan.name)) continue;
      if (plan.dns) {
        this.#warm(plan, prev);
        continue;
      }
      const c = new UpstreamCluster(plan, prev, this.#secrets, this.#dialInternal);
      if (prev) {
        retired.push(...c.adoptHosts(prev));
        this.#stopDiscovery(prev);
      }
      if (plan.edsName) {
        const eds = this.#endpoints.get(plan.edsName);
        if (eds) retired.push(...c.setEndpoints(eds.endpoints, eds.overprovisioningFactor));
      }
      this.#clusters.set(plan.name, c);
    }
    for (const h of retired) void h.close();
    log.debug('clusters applied', { count: this.#clusters.size, warming: this.#warming.size });
    this.#changed();
  }

  /** Starts resolving a DNS cluster; it replaces `prev` (which serves meanwhile) once warm. */
  #warm(plan: ClusterPlan, prev: UpstreamCluster | undefined): void {
    const c = new UpstreamCluster(plan, prev, this.#secrets, this.#dialInternal);
    const d = new DnsDiscovery(plan.name, plan.dns!, plan.type === 'LOGICAL_DNS', c.stats, () => {
      if (this.#clusters.get(plan.name) === c) for (const h of c.setEndpoints(d.endpoints())) void h.close();
    });
    this.#warming.set(plan.name, c);
    this.#discovery.set(c, d);
    void d.warm.then(() => this.#activate(c));
    d.start();
  }

  #activate(c: UpstreamCluster): void {
    const name = c.plan.name;
    if (this.#warming.get(name) !== c) return;
    this.#warming.delete(name);
    const prev = this.#clusters.get(name);
    const retired: Host[] = [];
    // Hosts that stay keep their connections and in-flight requests; the others drain.
    if (prev) {
      retired.push(...c.adoptHosts(prev));
      this.#stopDiscovery(prev);
    }
    retired.push(...c.setEndpoints(this.#discovery.get(c)!.endpoints()));
    this.#clusters.set(name, c);
    for (const h of retired) void h.close();
    log.debug('dns cluster warmed', { cluster: name, hosts: c.hosts.length });
    this.#changed();
  }

  #cancelWarming(name: string): void {
    const w = this.#warming.get(name);
    if (!w) return;
    this.#warming.delete(name);
    this.#stopDiscovery(w);
  }

  /** Stops a replaced or removed cluster's resolver (its hosts are adopted or closed by the caller). */
  #stopDiscovery(c: UpstreamCluster): void {
    this.#discovery.get(c)?.stop();
    this.#discovery.delete(c);
  }

  applyEndpoints(assignments: ReadonlyMap<string, EndpointsPlan>): void {
    this.#endpoints = new Map(assignments);
    for (const c of this.#clusters.values()) {
      if (!c.plan.edsName) continue;
      const eds = this.#endpoints.get(c.plan.edsName);
      for (const h of c.setEndpoints(eds?.endpoints ?? [], eds?.overprovisioningFactor)) void h.close();
    }
    this.#changed();
  }

  async close(): Promise<void> {
    for (const name of [...this.#warming.keys()]) this.#cancelWarming(name);
    for (const c of this.#clusters.values()) this.#stopDiscovery(c);
    await Promise.all([...this.#clusters.values()].map((c) => c.close()));
    this.#clusters.clear();
  }
}

function samePlan(a: ClusterPlan, b: ClusterPlan | undefined): boolean {
  return b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
