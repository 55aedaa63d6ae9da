/**
 * Load balancers, registered explicitly by name (no import side effects):
 * round robin, least request (power of two choices) and random.
 */
import type { Host } from './host.js';
import type { LbKind } from './cluster-plan.js';

export interface LoadBalancer {
  /** Picks among `hosts` (all healthy, non-empty). */
  pick(hosts: readonly Host[]): Host;
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

const registry: Record<LbKind, () => LoadBalancer> = {
  round_robin: () => new RoundRobin(),
  least_request: () => new LeastRequest(),
  random: () => new RandomLb(),
};

export function createLoadBalancer(kind: LbKind): LoadBalancer {
  return registry[kind]();
}
