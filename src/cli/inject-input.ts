/** What kube-inject and check-inject share: reading -f FILE or - (stdin), and the injection config flags. */
import { readFile } from 'node:fs/promises';
import { TrellisError, errorMessage } from '../errors.js';

export async function readInput(file: string | undefined): Promise<string> {
  if (file === undefined) throw new TrellisError('CLI_USAGE', '-f FILE is required (- reads standard input)');
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TrellisError('CLI_USAGE', `-f ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

/** "k=v,k2=v2" → labels; a usage error names the flag. */
export function parseLabels(flag: string, v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new TrellisError('CLI_USAGE', `${flag}: expected key=value, got ${JSON.stringify(part)}`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
