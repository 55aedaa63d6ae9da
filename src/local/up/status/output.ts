/**
 * Where the status goes. On a terminal: start-up steps and events scroll,
 * and the status block is redrawn in place below them (ANSI cursor-up and
 * clear; lines cut to the terminal's width so the line count stays true).
 * Otherwise (a pipe, a log): plain lines — steps and events as they happen,
 * the status block every `everyMs`.
 */
export class StatusOutput {
  readonly #out: NodeJS.WritableStream & { columns?: number };
  readonly #tty: boolean;
  readonly #everyMs: number;
  #drawn = 0;
  #lastPlain = 0;
  #lastBlock: string[] = [];

  constructor(out: NodeJS.WritableStream & { columns?: number; isTTY?: boolean }, everyMs: number) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#everyMs = everyMs;
  }

  get tty(): boolean {
    return this.#tty;
  }

  /** A line that stays (a start-up step, an event). */
  line(text: string): void {
    if (this.#tty) {
      this.#clear();
      this.#out.write(text + '\n');
      this.#draw(this.#lastBlock);
    } else {
      this.#out.write(text + '\n');
    }
  }

  /** The status block: redrawn now on a terminal, printed every `everyMs` otherwise. */
  block(lines: string[]): void {
    this.#lastBlock = lines;
    if (this.#tty) {
      this.#clear();
      this.#draw(lines);
      return;
    }
    const now = Date.now();
    if (now - this.#lastPlain < this.#everyMs) return;
    this.#lastPlain = now;
    this.#out.write(`--- status ${new Date(now).toISOString()}\n${lines.join('\n')}\n`);
  }

  /** Leaves the last block on screen (a terminal) and stops redrawing. */
  end(): void {
    this.#drawn = 0;
    this.#lastBlock = [];
  }

  #clear(): void {
    if (this.#drawn > 0) this.#out.write(`\x1b[${this.#drawn}F\x1b[J`);
    this.#drawn = 0;
  }

  #draw(lines: string[]): void {
    if (lines.length === 0) return;
    const width = Math.max(20, (this.#out.columns ?? 120) - 1);
    this.#out.write(lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l)).join('\n') + '\n');
    this.#drawn = lines.length;
  }
}
