/**
 * Where the debugging commands write, and how: stdout as a sink (tests and
 * scripts capture it), JSON with istioctl's 4-space indent, YAML, and colour
 * only on a terminal that did not ask for none (NO_COLOR).
 */
import { stringify } from 'yaml';
import { env } from '../env.js';

export type Write = (text: string) => void;

export const stdout: Write = (text) => void process.stdout.write(text);

export function jsonText(v: unknown): string {
  return JSON.stringify(v, null, 4) + '\n';
}

export function yamlText(v: unknown): string {
  return stringify(v, { lineWidth: 0 });
}

/** Structured output in the chosen format. */
export function structured(v: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? jsonText(v) : yamlText(v);
}

export function colorEnabled(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true && !env.noColor;
}

const codes = { red: 31, yellow: 33, green: 32, bold: 1 } as const;

export function paint(text: string, color: keyof typeof codes, on: boolean): string {
  return on ? `\u001b[${codes[color]}m${text}\u001b[0m` : text;
}
