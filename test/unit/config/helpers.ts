/** Shared helpers for the config tests. */
import { loadConfigText, fileProblems } from '../../../src/config/load-config.js';
import type { ConfigProblem } from '../../../src/controlplane/sources/source.js';
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

/** File and start line of a loaded object (its origin without the per-field lines). */
export function placeOf(o: { origin?: Origin }): { file: string; line: number } | undefined {
  return o.origin && { file: o.origin.file, line: o.origin.line };
}
