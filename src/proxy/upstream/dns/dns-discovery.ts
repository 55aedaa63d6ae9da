/**
 * Keeps a DNS cluster's endpoints (Envoy's STRICT_DNS and LOGICAL_DNS): each
 * target name is resolved on its own timer — dns_refresh_rate, or the
 * records' TTL with respect_dns_ttl, or dns_failure_refresh_rate after a
 * failure. STRICT_DNS: every address of every name is an endpoint;
 * LOGICAL_DNS: the first address of the latest resolution is the one. A
 * failed resolution keeps the previous addresses (Envoy does: a DNS outage
 * must not empty the cluster). Counts Envoy's cluster.NAME.update_* stats.
 */
import { logger } from '../../../log.js';
import { describeError } from '../../../errors.js';
import type { EndpointSpec } from '../cluster-plan.js';
import type { DnsPlan } from './dns-plan.js';
import { DnsResolver } from './dns-resolver.js';
import type { Answer } from './lookup-family.js';

const log = logger('dns');

/** Envoy's cluster.NAME.* counters of a resolving cluster. */
export interface DnsStats {
  update_attempt: number;
  update_success: number;
  update_failure: number;
  update_no_rebuild: number;
  membership_change: number;
}

interface Target {
  spec: EndpointSpec;
  /** Addresses of the latest successful resolution; undefined until the first one. */
  addresses: string[] | undefined;
  failures: number;
  /** Its first resolution is done (succeeded or failed). */
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class DnsDiscovery {
  readonly #name: string;
  readonly #plan: DnsPlan;
  readonly #logical: boolean;
  readonly #stats: DnsStats;
  readonly #onChange: () => void;
  readonly #resolver: DnsResolver;
  readonly #targets: Target[];
  #pending: number;
  #warmed!: () => void;
  #stopped = false;
  /** Resolves once every target's first resolution completed or failed (Envoy's warming). */
  readonly warm: Promise<void>;

  /** `onChange` is called when endpoints() changed (not on refreshes that found the same addresses). */
  constructor(name: string, plan: DnsPlan, logical: boolean, stats: DnsStats, onChange: () => void) {
    this.#name = name;
    this.#plan = plan;
    this.#logical = logical;
    this.#stats = stats;
    this.#onChange = onChange;
    this.#resolver = new DnsResolver(plan);
    this.#targets = plan.targets.map((spec) => ({ spec, addresses: undefined, failures: 0, settled: false, timer: undefined }));
    this.#pending = this.#targets.length;
    this.warm = new Promise((r) => (this.#warmed = r));
    if (this.#pending === 0) this.#warmed();
  }

  start(): void {
    for (const t of this.#targets) void this.#resolve(t);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#targets) clearTimeout(t.timer);
    this.#resolver.cancel();
    this.#warmed();
  }

  /** The endpoints as resolved so far: one per address (STRICT_DNS), or the first address (LOGICAL_DNS). */
  endpoints(): EndpointSpec[] {
    return this.#targets.flatMap((t) => {
      const addrs = this.#logical ? (t.addresses ?? []).slice(0, 1) : t.addresses ?? [];
      return addrs.map((address) => ({ ...t.spec, address }));
    });
  }

  async #resolve(t: Target): Promise<void> {
    this.#stats.update_attempt++;
    let delay: number;
    try {
      const answers = await this.#resolver.resolve(t.spec.address);
      if (this.#stopped) return;
      this.#stats.update_success++;
      t.failures = 0;
      delay = this.#nextRefresh(answers);
      this.#take(t, answers.map((a) => a.address));
    } catch (err) {
      if (this.#stopped) return;
      this.#stats.update_failure++;
      t.failures++;
      delay = this.#failureRefresh(t.failures);
      // Once per outage at warn: a failing name re-resolves every few seconds.
      const at = t.failures === 1 ? 'warn' : 'debug';
      log[at]('dns resolution failed; keeping the previous addresses', { cluster: this.#name, name: t.spec.address, error: describeError(err), retryMs: delay });
    }
    t.timer = setTimeout(() => void this.#resolve(t), delay);
    t.timer.unref();
    if (!t.settled) {
      t.settled = true;
      if (--this.#pending === 0) this.#warmed();
    }
  }

  #take(t: Target, addresses: string[]): void {
    const before = this.endpoints();
    t.addresses = addresses;
    if (sameEndpoints(before, this.endpoints())) {
      this.#stats.update_no_rebuild++;
      return;
    }
    this.#stats.membership_change++;
    log.debug('dns endpoints changed', { cluster: this.#name, name: t.spec.address, addresses });
    this.#onChange();
  }

  /** respect_dns_ttl: the smallest TTL of the answer (0, or no answer: the refresh rate), as Envoy. */
  #nextRefresh(answers: Answer[]): number {
    if (!this.#plan.respectTtl || answers.length === 0) return this.#plan.refreshMs;
    const ttl = Math.min(...answers.map((a) => a.ttl));
    return ttl > 0 ? ttl * 1000 : this.#plan.refreshMs;
  }

  #failureRefresh(failures: number): number {
    const f = this.#plan.failureRefresh;
    if (!f) return this.#plan.refreshMs;
    return Math.min(f.baseMs * 2 ** Math.min(failures - 1, 30), f.maxMs);
  }
}

function sameEndpoints(a: EndpointSpec[], b: EndpointSpec[]): boolean {
  return a.length === b.length && a.every((x, i) => x.address === b[i]!.address && x.port === b[i]!.port);
}
