/**
 * When a config directory that had files turns up empty, wait before serving
 * the empty config: `rm *.yaml; cp new/*.yaml .` (or a volume swap) passes
 * through an empty directory for a moment, and serving it would remove every
 * listener and cluster from every proxy in between. A directory that stays
 * empty for the whole hold is served as empty, as istiod serves an empty
 * config: removing everything on purpose must stay possible.
 */
import { logger } from '../../log.js';

const log = logger('config');

/** A timer scheduled a little after the hold ends, so the rescan it triggers finds it over. */
const timerSlackMs = 5;

export class EmptyHold {
  #since: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** `recheck` is called once the hold has run out (the source rescans). */
  constructor(
    readonly dir: string,
    readonly holdMs: number,
    readonly recheck: () => void,
  ) {}

  /**
   * Whether to keep the current config instead of applying this scan.
   * `found`: config files the scan found; `had`: files the current config came from.
   */
  holds(found: number, had: number): boolean {
    if (found > 0 || had === 0 || this.holdMs <= 0) {
      if (this.#since !== undefined) log.info('config directory has files again; the empty state was never served', { dir: this.dir });
      this.cancel();
      return false;
    }
    const now = performance.now();
    if (this.#since === undefined) {
      this.#since = now;
      log.warn('config directory is empty; keeping the current config unless it stays empty', { dir: this.dir, holdMs: this.holdMs });
      this.#timer = setTimeout(this.recheck, this.holdMs + timerSlackMs);
      return true;
    }
    if (now - this.#since < this.holdMs) return true;
    log.warn('config directory stayed empty; serving an empty config', { dir: this.dir, heldMs: Math.round(now - this.#since) });
    this.cancel();
    return false;
  }

  /** Whether an empty listing is being held (the current config is not what the directory holds). */
  get active(): boolean {
    return this.#since !== undefined;
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#since = undefined;
  }
}
