/**
 * Holds the running clusters: applies CDS (make-before-break: hosts and their
 * connections carry over when a cluster changes) and EDS.
 */
import { logger } from '../../log.js';
import type { ClusterPlan, EndpointsPlan } from './cluster-plan.js';
import type { Host } from './host.js';
import { UpstreamCluster } from './cluster.js';
import type { SecretStore } from '../tls/secret-store.js';

const log = logger('cluster');

export class ClusterManager {
  readonly #clusters = new Map<string, UpstreamCluster>();
  /** Latest EDS assignments by resource name, kept even before their cluster exists. */
  #endpoints = new Map<string, EndpointsPlan>();
  readonly #secrets: SecretStore | undefined;

  /** `secrets`: where clusters with upstream TLS find their certificates (SDS). */
  constructor(secrets?: SecretStore) {
    this.#secrets = secrets;
  }

  get(name: string): UpstreamCluster | undefined {
    return this.#clusters.get(name);
  }

  all(): IterableIterator<UpstreamCluster> {
    return this.#clusters.values();
  }

  applyClusters(plans: Iterable<ClusterPlan>): void {
    const next = new Map<string, ClusterPlan>();
    for (const p of plans) next.set(p.name, p);
    const retired: Host[] = [];
    for (const [name, c] of this.#clusters) {
      if (!next.has(name)) {
        this.#clusters.delete(name);
        void c.close();
      }
    }
    for (const plan of next.values()) {
      const prev = this.#clusters.get(plan.name);
      if (prev && samePlan(prev.plan, plan)) continue;
      const c = new UpstreamCluster(plan, prev, this.#secrets);
      if (prev) retired.push(...c.adoptHosts(prev));
      if (plan.edsName) {
        const eds = this.#endpoints.get(plan.edsName);
        if (eds) retired.push(...c.setEndpoints(eds.endpoints));
      }
      this.#clusters.set(plan.name, c);
    }
    for (const h of retired) void h.close();
    log.debug('clusters applied', { count: this.#clusters.size });
  }

  applyEndpoints(assignments: ReadonlyMap<string, EndpointsPlan>): void {
    this.#endpoints = new Map(assignments);
    for (const c of this.#clusters.values()) {
      if (!c.plan.edsName) continue;
      const eds = this.#endpoints.get(c.plan.edsName);
      for (const h of c.setEndpoints(eds?.endpoints ?? [])) void h.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clusters.values()].map((c) => c.close()));
    this.#clusters.clear();
  }
}

function samePlan(a: ClusterPlan, b: ClusterPlan): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
