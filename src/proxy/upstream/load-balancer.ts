/**
 * Load balancers, registered explicitly by name (no import side effects):
 * round robin, least request (power of two choices), random and consistent
 * hash. All honour EDS endpoint weights (load_balancing_weight); the common
 * case of equal weights keeps the unweighted fast path.
 */
import type { Host } from './host.js';
import type { LbKind } from './cluster-plan.js';

export interface LoadBalancer {
  /** Picks among `hosts` (all healthy, non-empty); `hash` is the request's consistent-hash key, if any. */
  pick(hosts: readonly Host[], hash?: number): Host;
}

/** True when every host has the same weight (then weights change nothing). */
function uniform(hosts: readonly Host[]): boolean {
  const w = hosts[0]!.weight;
  for (let i = 1; i < hosts.length; i++) if (hosts[i]!.weight !== w) return false;
  return true;
}

/** Smooth weighted round robin when weights differ: each host gets its share, evenly interleaved. */
class RoundRobin implements LoadBalancer {
  #next = Math.floor(Math.random() * 1024);
  readonly #current = new WeakMap<Host, number>();

  pick(hosts: readonly Host[]): Host {
    if (uniform(hosts)) {
      const h = hosts[this.#next % hosts.length]!;
      this.#next = (this.#next + 1) % 1_000_000_007;
      return h;
    }
    let total = 0;
    let best = hosts[0]!;
    let bestValue = -Infinity;
    for (const h of hosts) {
      const v = (this.#current.get(h) ?? 0) + h.weight;
      this.#current.set(h, v);
      total += h.weight;
      if (v > bestValue) {
        bestValue = v;
        best = h;
      }
    }
    this.#current.set(best, bestValue - total);
    return best;
  }
}

/**
 * Envoy's default choice_count of 2: pick two at random, keep the one with
 * fewer active requests per unit of weight (the heavier one on a tie).
 */
class LeastRequest implements LoadBalancer {
  pick(hosts: readonly Host[]): Host {
    if (hosts.length === 1) return hosts[0]!;
    const a = hosts[Math.floor(Math.random() * hosts.length)]!;
    const b = hosts[Math.floor(Math.random() * hosts.length)]!;
    const la = a.active / a.weight;
    const lb = b.active / b.weight;
    return lb < la || (lb === la && b.weight > a.weight) ? b : a;
  }
}

class RandomLb implements LoadBalancer {
  pick(hosts: readonly Host[]): Host {
    if (uniform(hosts)) return hosts[Math.floor(Math.random() * hosts.length)]!;
    let total = 0;
    for (const h of hosts) total += h.weight;
    let r = Math.random() * total;
    for (const h of hosts) if ((r -= h.weight) < 0) return h;
    return hosts[hosts.length - 1]!;
  }
}

/**
 * Consistent hashing for RING_HASH / MAGLEV clusters. Rendezvous (highest
 * random weight) rather than Envoy's ring: the same key maps to the same host,
 * and a host set change only moves the keys of the hosts that changed.
 * Requests without a key are spread at random, as in Envoy.
 */
class ConsistentHash implements LoadBalancer {
  pick(hosts: readonly Host[], hash?: number): Host {
    if (hash === undefined) return hosts[Math.floor(Math.random() * hosts.length)];
    if (!uniform(hosts)) return weightedRendezvous(hosts, hash);
    let best = hosts[0]!;
    let bestScore = -1;
    for (const h of hosts) {
      const score = mix(hash ^ h.hashSeed);
      if (score > bestScore) {
        bestScore = score;
        best = h;
      }
    }
    return best;
  }
}

/** Weighted rendezvous hashing: score = -weight / ln(u), u uniform in (0,1) from the key and the host. */
function weightedRendezvous(hosts: readonly Host[], hash: number): Host {
  let best = hosts[0]!;
  let bestScore = -Infinity;
  for (const h of hosts) {
    const u = (mix(hash ^ h.hashSeed) + 1) / 4294967297;
    const score = -h.weight / Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = h;
    }
  }
  return best;
}

/** murmur3's 32-bit finaliser: spreads nearby inputs over the whole range. */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

const registry: Record<LbKind, () => LoadBalancer> = {
  ring_hash: () => new ConsistentHash(),
  round_robin: () => new RoundRobin(),
  least_request: () => new LeastRequest(),
  random: () => new RandomLb(),
};

export function createLoadBalancer(kind: LbKind): LoadBalancer {
  return registry[kind]();
}
