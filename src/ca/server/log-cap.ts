import type { Logger } from '../../log.js';

/**
 * At most `perWindow` warnings per window, then one line saying how many
 * were left out. Refusals are logged because an operator needs to see them,
 * and capped because a misbehaving (or hostile) caller can produce them as
 * fast as it can send requests.
 */
export class CappedLog {
  readonly #log: Logger;
  readonly #perWindow: number;
  readonly #windowMs: number;
  #windowStart = 0;
  #count = 0;
  #suppressed = 0;

  constructor(log: Logger, perWindow = 20, windowMs = 60_000) {
    this.#log = log;
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
  }

  warn(msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.#windowStart >= this.#windowMs) {
      if (this.#suppressed > 0) this.#log.warn('similar log lines suppressed', { count: this.#suppressed, windowSeconds: this.#windowMs / 1000 });
      this.#windowStart = now;
      this.#count = 0;
      this.#suppressed = 0;
    }
    if (++this.#count <= this.#perWindow) this.#log.warn(msg, fields);
    else this.#suppressed++;
  }
}
