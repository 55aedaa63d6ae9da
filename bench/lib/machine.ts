import { spawnSync } from 'node:child_process';
import { cpus, hostname, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What the numbers were measured on, saved beside them. */
export function machine(): Record<string, string | number> {
  return {
    host: hostname(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** Writes bench/results/NAME-YYYY-MM-DD.json and .md (the printed table). */
export function saveResults(name: string, table: string, data: unknown): string {
  const dir = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const base = `${dir}${name}-${date}`;
  const m = machine();
  writeFileSync(`${base}.json`, JSON.stringify({ date: new Date().toISOString(), machine: m, results: data }, null, 2) + '\n');
  writeFileSync(`${base}.md`, `# ${name} — ${new Date().toISOString()}\n\nMachine: ${JSON.stringify(m)}\n\n${table}\n`);
  return base;
}

/** A plain-text table with aligned columns. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(cells[0]!), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.slice(1).map(line)].join('\n');
}

/** The machine's load as `uptime` prints it: saved before and after a run, since the machine is shared. */
export function uptime(): string {
  return spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
}
