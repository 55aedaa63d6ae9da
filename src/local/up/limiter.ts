/**
 * At most `n` tasks at a time, the rest queued in order, urgent ones first.
 * Process starts go through one sized to the machine's cores: a proxy's
 * start is CPU-bound (loading code and descriptors), so eight proxies
 * started at once on two cores each take four times as long to be ready,
 * and all are late. Sidecars are urgent (every proxy SYNCED is what a mesh
 * waits for); apps of pods without one queue behind them.
 */
export class Limiter {
  readonly #n: number;
  #running = 0;
  readonly #urgent: (() => void)[] = [];
  readonly #later: (() => void)[] = [];

  constructor(n: number) {
    this.#n = Math.max(1, n);
  }

  async run<T>(task: () => Promise<T>, urgent = true): Promise<T> {
    if (this.#running >= this.#n) await new Promise<void>((r) => (urgent ? this.#urgent : this.#later).push(r));
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      (this.#urgent.shift() ?? this.#later.shift())?.();
    }
  }
}
