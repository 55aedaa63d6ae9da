/**
 * Load balancers, registered explicitly by name (no import side effects):
 * round robin, least request (power of two choices) and random.
 */
import type { Host } from './host.js';
import type { LbKind } from './cluster-plan.js';

export interface LoadBalancer {
  /** Picks among `hosts` (all healthy, non-empty); `hash` is the request's consistent-hash key, if any. */
  pick(hosts: readonly Host[], hash?: number): Host;
}

class RoundRobin implements LoadBalancer {
  #next = Math.floor(Math.random() * 1024);
  pick(hosts: readonly Host[]): Host {
    const h = hosts[this.#next % hosts.length];
    this.#next = (this.#next + 1) % 1_000_000_007;
    return h;
  }
}

/** Envoy's default choice_count of 2: pick two at random, keep the one with fewer active requests. */
class LeastRequest implements LoadBalancer {
  pick(hosts: readonly Host[]): Host {
    if (hosts.length === 1) return hosts[0];
    const a = hosts[Math.floor(Math.random() * hosts.length)];
    const b = hosts[Math.floor(Math.random() * hosts.length)];
    return b.active < a.active ? b : a;
  }
}

class RandomLb implements LoadBalancer {
  pick(hosts: readonly Host[]): Host {
    return hosts[Math.floor(Math.random() * hosts.length)];
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
    let best = hosts[0];
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
