/**
 * A ConfigSource decorator: Services without a cluster IP get one (see
 * config/cluster-ip.ts) before the registry sees them, as the API server
 * assigns one before any controller does. Without it such a Service has no
 * VIP, and its TCP ports get no outbound listener.
 */
import { allocateClusterIps, type Ipv4Cidr } from '../../config/cluster-ip.js';
import type { AnyObject } from '../../config/objects.js';
import type { ConfigProblem } from '../../config/config-problem.js';
import type { ConfigSource, ConfigState } from './source.js';

/** What an allocation depends on (the Services, by key and identity) and what it gave. */
interface Allocation {
  services: [string, AnyObject][];
  /** The Services given an address, by key. */
  addressed: Map<string, AnyObject>;
  problems: ConfigProblem[];
}

export class ClusterIpSource implements ConfigSource {
  readonly #inner: ConfigSource;
  readonly #cidr: Ipv4Cidr;
  #last: Allocation | undefined;

  constructor(inner: ConfigSource, cidr: Ipv4Cidr) {
    this.#inner = inner;
    this.#cidr = cidr;
  }

  start(onState: (state: ConfigState) => void): Promise<void> {
    return this.#inner.start((state) => onState(this.#withClusterIps(state)));
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }

  /**
   * At 100 endpoint changes/s the Services rarely change: while they are the
   * same objects, the last allocation is reused instead of parsing every
   * Service's addresses again, and the addressed Services keep their
   * identity from state to state (the control plane compares by identity first).
   */
  #withClusterIps(state: ConfigState): ConfigState {
    const services: [string, AnyObject][] = [];
    for (const [key, o] of state.objects) if (o.kind === 'Service') services.push([key, o]);
    const last = this.#last;
    if (last === undefined || !sameServices(last.services, services)) {
      const { objects, problems } = allocateClusterIps(state.objects, this.#cidr);
      const addressed = new Map(services.flatMap(([key, o]) => (objects.get(key) === o ? [] : [[key, objects.get(key)!] as const])));
      this.#last = { services, addressed, problems };
    }
    const { addressed, problems } = this.#last!;
    let objects = state.objects;
    if (addressed.size > 0) {
      const copy = new Map(state.objects);
      for (const [key, o] of addressed) copy.set(key, o);
      objects = copy;
    }
    return withProblems(state, objects, problems);
  }
}

function sameServices(a: readonly [string, AnyObject][], b: readonly [string, AnyObject][]): boolean {
  return a.length === b.length && a.every(([key, o], i) => b[i]![0] === key && b[i]![1] === o);
}

/** The state with every Service addressed; the allocator's problems join the source's. */
export function withClusterIps(state: ConfigState, cidr: Ipv4Cidr): ConfigState {
  const { objects, problems } = allocateClusterIps(state.objects, cidr);
  return withProblems(state, objects, problems);
}

function withProblems(state: ConfigState, objects: ReadonlyMap<string, AnyObject>, problems: readonly ConfigProblem[]): ConfigState {
  if (objects === state.objects && problems.length === 0) return state;
  return { objects, problems: problems.length === 0 ? state.problems : [...state.problems, ...problems], revision: state.revision };
}
