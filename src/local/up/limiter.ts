/**
 * At most `n` tasks at a time, the rest queued in order. Sidecars start
 * through one sized to the machine's cores: a proxy's start is CPU-bound
 * (loading code and descriptors), so eight proxies started at once on two
 * cores each take four times as long to be ready, and all are late.
 */
export class Limiter {
  readonly #n: number;
  #running = 0;
  readonly #queue: (() => void)[] = [];

  constructor(n: number) {
    this.#n = Math.max(1, n);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#n) await new Promise<void>((r) => this.#queue.push(r));
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#queue.shift()?.();
    }
  }
}
