/**
 * Envoy's priority levels and locality weighting (load_balancer_impl.cc),
 * computed when hosts or their health change, never per request:
 *   - each priority's health is min(100, overprovisioning × healthy / hosts),
 *     Envoy's default factor 1.4 letting a level lose 28 % of its hosts
 *     before any load spills to the next;
 *   - load is given out from priority 0 down in proportion to health,
 *     normalised by the total health capped at 100 (rounding left-overs to
 *     the first level that got load);
 *   - a level is in panic (balanced over all its hosts) when its healthy
 *     share is below the panic threshold and the total health is short of
 *     100; when every level is in panic, load follows host counts;
 *   - with locality_weighted_lb_config a level's locality is chosen first,
 *     by weight × min(1, overprovisioning × its healthy share), then a host
 *     of it by the cluster's balancer.
 * The cluster (cluster.ts) only builds this when hosts have more than one
 * priority or locality weighting is on; a plain cluster keeps its flat list.
 */
import type { Host } from './host.js';
import type { LoadBalancer } from './load-balancer.js';

interface Locality {
  readonly weight: number;
  readonly hosts: Host[];
  readonly healthy: Host[];
  /** weight × availability: what the smooth weighted round robin shares out. */
  effective: number;
  current: number;
}

interface Level {
  readonly hosts: Host[];
  readonly healthy: Host[];
  readonly localities: Locality[];
  panic: boolean;
}

export interface PriorityOptions {
  panicThresholdPercent: number;
  /** Percent; Envoy's default 140. */
  overprovisioningFactor: number;
  localityWeighted: boolean;
}

const usable = (h: Host) => h.healthy && !h.outlier.ejected;

export class PrioritySet {
  readonly #levels: Level[] = [];
  /** Percent of requests per level (sums to 100). */
  readonly loads: number[];
  readonly #localityWeighted: boolean;

  constructor(hosts: readonly Host[], o: PriorityOptions) {
    this.#localityWeighted = o.localityWeighted;
    for (const h of hosts) {
      const level = (this.#levels[h.priority] ??= { hosts: [], healthy: [], localities: [], panic: false });
      level.hosts.push(h);
      if (usable(h)) level.healthy.push(h);
    }
    // Envoy keeps a (possibly empty) host set for every priority up to the highest.
    for (let i = 0; i < this.#levels.length; i++) this.#levels[i] ??= { hosts: [], healthy: [], localities: [], panic: false };
    if (o.localityWeighted) for (const l of this.#levels) l.localities.push(...localities(l.hosts, o.overprovisioningFactor));
    this.loads = this.#computeLoads(o);
  }

  /** Priority health (0-100) as Envoy computes it, per level. */
  static health(healthy: number, total: number, factor: number): number {
    return total === 0 ? 0 : Math.min(100, Math.floor((factor * healthy) / total));
  }

  #computeLoads(o: PriorityOptions): number[] {
    const levels = this.#levels;
    const health = levels.map((l) => PrioritySet.health(l.healthy.length, l.hosts.length, o.overprovisioningFactor));
    const total = Math.min(100, health.reduce((a, b) => a + b, 0));
    const loads = levels.map(() => 0);
    if (total > 0) {
      let left = 100;
      let first = -1;
      health.forEach((h, i) => {
        loads[i] = Math.min(left, Math.floor((h * 100) / total));
        left -= loads[i]!;
        if (loads[i]! > 0 && first < 0) first = i;
      });
      if (left > 0) loads[first]! += left;
    }
    if (o.panicThresholdPercent === 0 && total === 0) {
      loads[0] = 100;
      return loads;
    }
    let totalPanic = levels.length > 0;
    for (const l of levels) {
      const healthyPercent = l.hosts.length === 0 ? 0 : (100 * l.healthy.length) / l.hosts.length;
      l.panic = total === 100 ? false : healthyPercent < o.panicThresholdPercent;
      totalPanic &&= l.panic;
    }
    return totalPanic ? panicLoads(levels) : loads;
  }

  /** A host: a level by its load (`rnd` in [0, 100)), then a locality if weighted, then the cluster's balancer. */
  pick(lb: LoadBalancer, hash: number | undefined, rnd: number): Host | undefined {
    let p = 0;
    let acc = this.loads[0] ?? 0;
    while (p < this.loads.length - 1 && rnd >= acc) acc += this.loads[++p]!;
    const level = this.#levels[p];
    if (!level) return undefined;
    if (level.panic) return level.hosts.length > 0 ? lb.pick(level.hosts, hash) : undefined;
    if (this.#localityWeighted) {
      const l = chooseLocality(level.localities);
      if (l) return lb.pick(l.healthy, hash);
    }
    return level.healthy.length > 0 ? lb.pick(level.healthy, hash) : undefined;
  }
}

/** Total panic: load by host count regardless of health, the remainder to the first non-empty level. */
function panicLoads(levels: readonly Level[]): number[] {
  const count = levels.reduce((a, l) => a + l.hosts.length, 0);
  const loads = levels.map(() => 0);
  if (count === 0) {
    loads[0] = 100;
    return loads;
  }
  let left = 100;
  levels.forEach((l, i) => {
    loads[i] = Math.floor((100 * l.hosts.length) / count);
    left -= loads[i]!;
  });
  loads[levels.findIndex((l) => l.hosts.length > 0)]! += left;
  return loads;
}

function localities(hosts: readonly Host[], factor: number): Locality[] {
  const byIndex = new Map<number, Locality>();
  for (const h of hosts) {
    let l = byIndex.get(h.locality);
    if (!l) byIndex.set(h.locality, (l = { weight: h.localityWeight ?? 0, hosts: [], healthy: [], effective: 0, current: 0 }));
    l.hosts.push(h);
    if (usable(h)) l.healthy.push(h);
  }
  for (const l of byIndex.values()) l.effective = l.weight * Math.min(1, (factor / 100) * (l.healthy.length / l.hosts.length));
  return [...byIndex.values()];
}

/** Smooth weighted round robin over effective weights (Envoy uses EDF: the same shares, interleaved). */
function chooseLocality(list: readonly Locality[]): Locality | undefined {
  let total = 0;
  let best: Locality | undefined;
  for (const l of list) {
    if (l.effective <= 0) continue;
    l.current += l.effective;
    total += l.effective;
    if (!best || l.current > best.current) best = l;
  }
  if (best) best.current -= total;
  return best;
}
