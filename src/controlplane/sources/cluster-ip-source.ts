/**
 * A ConfigSource decorator: Services without a cluster IP get one (see
 * config/cluster-ip.ts) before the registry sees them, as the API server
 * assigns one before any controller does. Without it such a Service has no
 * VIP, and its TCP ports get no outbound listener.
 */
import { allocateClusterIps, type Ipv4Cidr } from '../../config/cluster-ip.js';
import type { ConfigSource, ConfigState } from './source.js';

export class ClusterIpSource implements ConfigSource {
  readonly #inner: ConfigSource;
  readonly #cidr: Ipv4Cidr;

  constructor(inner: ConfigSource, cidr: Ipv4Cidr) {
    this.#inner = inner;
    this.#cidr = cidr;
  }

  start(onState: (state: ConfigState) => void): Promise<void> {
    return this.#inner.start((state) => onState(withClusterIps(state, this.#cidr)));
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }
}

/** The state with every Service addressed; the allocator's problems join the source's. */
export function withClusterIps(state: ConfigState, cidr: Ipv4Cidr): ConfigState {
  const { objects, problems } = allocateClusterIps(state.objects, cidr);
  if (objects === state.objects && problems.length === 0) return state;
  return { objects, problems: problems.length === 0 ? state.problems : [...state.problems, ...problems], revision: state.revision };
}
