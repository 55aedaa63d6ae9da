/** Jittered exponential back-off for reconnecting to the control plane. */
export class Backoff {
  readonly #base: number;
  readonly #max: number;
  #attempt = 0;

  constructor(baseMs = 250, maxMs = 10_000) {
    this.#base = baseMs;
    this.#max = maxMs;
  }

  /** Delay before the next attempt: base·2^n capped at max, ±20 % jitter so proxies do not reconnect in lockstep. */
  next(): number {
    const raw = Math.min(this.#max, this.#base * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    return Math.round(raw * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
