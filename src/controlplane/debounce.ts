/**
 * Coalesces bursts of config changes into one push: the push runs once the
 * source has been quiet for `quietMs`, but never later than `maxDelayMs`
 * after the first change of the burst (so a constantly changing source still
 * converges, as istiod's PILOT_DEBOUNCE_MAX does).
 */
export class Debouncer {
  #timer: NodeJS.Timeout | undefined;
  #first = 0;

  constructor(
    private readonly quietMs: number,
    private readonly maxDelayMs: number,
    private readonly fire: () => void,
  ) {}

  trigger(): void {
    const now = Date.now();
    if (this.#timer === undefined) this.#first = now;
    else clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.quietMs, this.#first + this.maxDelayMs - now));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.fire();
    }, wait);
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
