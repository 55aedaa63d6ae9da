/**
 * Young-generation GC of `trellis proxy` at a fixed rate, with V8's
 * allocation-site pretenuring off (the proxy's default, src/cli/proxy.ts) and
 * on (`node --allocation-site-pretenuring`, V8's default): scavenge pauses,
 * bytes promoted per request and the latency tail, over several fresh
 * processes (pretenuring decisions differ from one start to the next).
 *
 *   node dist/bench/proxy/gc.js      # BENCH_RUNS (4) per variant, BENCH_SECONDS (5) at BENCH_RATE (1000)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { formatTable, saveResults } from '../lib/machine.js';
import { fixedRate } from './load.js';
import { killAll, killAllOnExit, spinner } from './procs.js';
import { median } from './report.js';
import { startBackend, trellis, type BenchEnv } from './targets.js';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 4);
const pinned = cpus().length >= 2;

interface Scavenge {
  pauseMs: number;
  promoted: number;
  survived: number;
}

/** Scavenges from --trace-gc-nvp lines ("pause=… gc=s … promoted=… new_space_survived=…"). */
export function scavenges(log: string): Scavenge[] {
  const out: Scavenge[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes(' gc=s ')) continue;
    const num = (k: string) => Number(new RegExp(`\\b${k}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
    out.push({ pauseMs: num('pause'), promoted: num('promoted'), survived: num('new_space_survived') });
  }
  return out;
}

async function one(env: BenchEnv, backendPort: number, nodeFlags: string[]) {
  const t = await trellis(env, backendPort, { nodeFlags: ['--trace-gc', '--trace-gc-nvp', ...nodeFlags] });
  try {
    await fixedRate(t.port, RATE, 3);
    const from = t.proc.output().length;
    const r = await fixedRate(t.port, RATE, SECONDS);
    const s = scavenges(t.proc.output().slice(from));
    const pauses = s.map((x) => x.pauseMs).sort((a, b) => a - b);
    return {
      scavenges: s.length,
      medianPauseMs: median(pauses),
      maxPauseMs: pauses.at(-1) ?? 0,
      promotedPerReq: s.reduce((a, x) => a + x.promoted, 0) / r.ok,
      p50: r.latency.p50,
      p99: r.latency.p99,
    };
  } finally {
    await t.stop();
  }
}

async function main(): Promise<void> {
  killAllOnExit();
  if (pinned) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const dir = mkdtempSync(`${tmpdir()}/trellis-gcbench-`);
  const env: BenchEnv = { dir, core: pinned ? 0 : undefined };
  const spin = spinner(env.core);
  const rows: (string | number)[][] = [];
  const raw: unknown[] = [];
  try {
    const backend = await startBackend(env);
    const variants: [string, string[]][] = [['pretenuring off (default)', []], ['pretenuring on (V8 default)', ['--allocation-site-pretenuring']]];
    for (let i = 0; i < RUNS; i++) {
      for (const [name, flags] of variants) {
        const m = await one(env, backend.port, flags);
        raw.push({ variant: name, ...m });
        rows.push([name, i + 1, m.scavenges, m.medianPauseMs.toFixed(1), m.maxPauseMs.toFixed(1), m.promotedPerReq.toFixed(0), m.p50.toFixed(3), m.p99.toFixed(3)]);
        console.log(rows.at(-1)!.join('  '));
      }
    }
  } finally {
    await spin?.stop();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const table = formatTable(['variant', 'run', 'scavenges', 'median pause ms', 'max pause ms', 'promoted B/req', 'p50 ms', 'p99 ms'], rows);
  const config = { rate: RATE, seconds: SECONDS, runs: RUNS, pinned, backend: 'nginx', body: '1 KiB' };
  console.log(`\n${table}`);
  console.log(`saved ${saveResults('proxy-gc', `Config: ${JSON.stringify(config)}\n\n${table}`, { config, raw })}.md`);
}

main().catch((err) => {
  console.error(err);
  killAll();
  process.exit(1);
});
