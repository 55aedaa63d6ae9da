/**
 * The endpoint churn of bench:churn as pure data: a seeded sequence of pod
 * changes over many services' EndpointSlices (a pod added, a pod gone, a
 * pod's readiness flipped), the slice each change leaves, and what every
 * proxy should finally hold for each service's clusters. A new pod always
 * gets an address its service never had (pods get new IPs), so the state
 * after the last change, which is always an addition, differs from every
 * earlier one: a proxy holding it has seen the last change, not an earlier
 * state that happened to look the same.
 */
import { endpointAddress, meshPorts, type SliceEndpoint } from './synthetic-mesh.js';

export type ChurnOp = 'add' | 'remove' | 'flip';

export interface ChurnChange {
  service: number;
  op: ChurnOp;
  /** The service's endpoints after the change. */
  endpoints: readonly SliceEndpoint[];
}

/** Addresses per service: service s uses indexes [s × span, (s + 1) × span). */
const span = 2048;

export class ChurnPlan {
  readonly #endpoints: SliceEndpoint[][];
  readonly #next: number[];
  readonly #min = 1;
  readonly #max: number;
  #seed: number;

  /** `services` services of `initial` ready endpoints each; a service never goes below one endpoint or above 2 × `initial`. */
  constructor(services: number, initial: number, seed = 16) {
    if (services * span >= 2 ** 24 - 2 ** 16) throw new RangeError(`at most ${Math.floor((2 ** 24 - 2 ** 16) / span) - 1} services`);
    this.#max = Math.max(2, 2 * initial);
    this.#seed = seed >>> 0;
    this.#next = Array.from({ length: services }, () => 0);
    this.#endpoints = Array.from({ length: services }, (_, s) => Array.from({ length: initial }, () => this.#fresh(s)));
  }

  endpoints(service: number): readonly SliceEndpoint[] {
    return this.#endpoints[service]!;
  }

  /** The next change; `last` makes it an addition (see the module's comment). */
  next(last = false): ChurnChange {
    const service = Math.floor(this.#random() * this.#endpoints.length);
    const eps = this.#endpoints[service]!;
    const op = last ? 'add' : this.#pickOp(eps.length);
    if (op === 'add') eps.push(this.#fresh(service));
    else if (op === 'remove') eps.splice(Math.floor(this.#random() * eps.length), 1);
    else {
      const i = Math.floor(this.#random() * eps.length);
      eps[i] = { ...eps[i]!, ready: !eps[i]!.ready };
    }
    return { service, op, endpoints: [...eps] };
  }

  /**
   * What a proxy holds for service `s`'s default cluster on `port` once it
   * has the final config: the ready endpoints' "address:port", sorted, comma-separated.
   */
  held(service: number, port: number): string {
    return this.#endpoints[service]!.filter((e) => e.ready).map((e) => `${e.address}:${port}`).sort().join(',');
  }

  /** Every service's default clusters (both ports) and what they should hold: the clients' convergence check. */
  expected(clusterOf: (service: number, port: number) => string): Record<string, string> {
    const out: Record<string, string> = {};
    for (let s = 0; s < this.#endpoints.length; s++) for (const p of meshPorts) out[clusterOf(s, p.port)] = this.held(s, p.port);
    return out;
  }

  #pickOp(count: number): ChurnOp {
    const ops: ChurnOp[] = ['flip'];
    if (count < this.#max) ops.push('add');
    if (count > this.#min) ops.push('remove');
    return ops[Math.floor(this.#random() * ops.length)]!;
  }

  #fresh(service: number): SliceEndpoint {
    const n = this.#next[service]!++;
    if (n >= span) throw new RangeError(`service ${service} ran out of fresh addresses after ${span} pods`);
    return { address: endpointAddress(service * span + n), ready: true, pod: `svc-${service}-${n}` };
  }

  /** mulberry32: small, seeded, good enough to spread changes. */
  #random(): number {
    let t = (this.#seed = (this.#seed + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
