/** Shared helpers for the config tests. */
import { loadConfigText, fileProblems } from '../../../src/config/load-config.js';
import assert from 'node:assert/strict';
import type { ConfigState } from '../../../src/controlplane/sources/source.js';
import type { ConfigProblem } from '../../../src/config/config-problem.js';
import type { Origin } from '../../../src/config/objects.js';

/** Every problem of a YAML text, as the directory source would see it. */
export function problemsOf(text: string, file = 'test.yaml'): ConfigProblem[] {
  return fileProblems(loadConfigText(file, text));
}

/** The reasons of every problem, for readable assertion failures. */
export function reasonsOf(text: string): string[] {
  return problemsOf(text).map((p) => p.reason);
}

/** Strips the common indentation of a template literal so YAML can be written inline. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((s, part, i) => s + part + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** Collects delivered states; next() waits (bounded) for the next one. */
export class States {
  readonly all: ConfigState[] = [];
  #read = 0;
  #wake: (() => void) | undefined;
  readonly push = (s: ConfigState) => {
    this.all.push(s);
    this.#wake?.();
  };
  async next(timeoutMs = 5000): Promise<ConfigState> {
    const deadline = Date.now() + timeoutMs;
    while (this.#read >= this.all.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no new state within ${timeoutMs} ms (have ${this.all.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => (clearTimeout(t), resolve());
      });
      this.#wake = undefined;
    }
    return this.all[this.#read++]!;
  }
  /** Waits for a state satisfying `pred` (bursty writes may deliver intermediate states). */
  async until(pred: (s: ConfigState) => boolean, timeoutMs = 5000): Promise<ConfigState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.next(Math.max(1, deadline - Date.now()));
      if (pred(s)) return s;
    }
  }
  async none(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    assert.equal(this.all.length, this.#read, `unexpected state revision ${this.all.at(-1)?.revision}`);
  }
}

/** File and start line of a loaded object (its origin without the per-field lines). */
export function placeOf(o: { origin?: Origin }): { file: string; line: number } | undefined {
  return o.origin && { file: o.origin.file, line: o.origin.line };
}
