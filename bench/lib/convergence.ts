import type { SimProxy } from './sim-proxy.js';

/** How far the proxies got: each converged proxy's time (ms after `from`), sorted, and how many have not. */
export interface ConvergenceResult {
  times: number[];
  pending: number;
}

/**
 * Which proxies hold the final endpoints. A proxy has converged once each
 * expected cluster holds exactly the expected endpoints; its time is when
 * the last of those arrived (and was ACKed: the simulated proxy ACKs as it
 * receives), measured from `from` (the last change, epoch ms). The plan
 * makes the final state unlike any earlier one, so a match is final.
 */
export class Convergence {
  readonly #expected: readonly [string, string][];
  readonly #pending: Set<SimProxy>;
  readonly #times: number[] = [];

  constructor(
    proxies: readonly SimProxy[],
    expected: Readonly<Record<string, string>>,
    private readonly from: number,
  ) {
    this.#expected = Object.entries(expected);
    this.#pending = new Set(proxies);
    for (const p of proxies) this.check(p);
  }

  /** Re-checks one proxy (after it received load assignments); true when every proxy has converged. */
  check(p: SimProxy): boolean {
    if (!this.#pending.has(p)) return this.done;
    let last = -Infinity;
    for (const [cluster, endpoints] of this.#expected) {
      const h = p.held.get(cluster);
      if (h?.endpoints !== endpoints) return false;
      last = Math.max(last, h.since);
    }
    this.#pending.delete(p);
    this.#times.push(last - this.from);
    return this.done;
  }

  get done(): boolean {
    return this.#pending.size === 0;
  }

  result(): ConvergenceResult {
    return { times: [...this.#times].sort((a, b) => a - b), pending: this.#pending.size };
  }
}
