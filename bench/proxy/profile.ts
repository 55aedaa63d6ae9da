/**
 * Profiles `trellis proxy` with node --cpu-prof at a fixed rate and at
 * saturation (one process each), estimates allocation per request from
 * --trace-gc, and prints the top self-time functions of each profile and
 * the self time by component (trellis code, undici, node internals, GC, ...).
 *
 *   taskset -c 1 node dist/bench/proxy/profile.js [outDir]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { fixedRate, wrk } from './load.js';
import { cpuSeconds, killAll, killAllOnExit, sleep } from './procs.js';
import { startBackend, trellis, type BenchEnv } from './targets.js';
import { allocatedMiB, allocationSites, byComponent, topSelf } from './profile-summary.js';
import { fileURLToPath } from 'node:url';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SAT_CONNS = Number(process.env.BENCH_SAT_CONNECTIONS ?? 32);
const pinned = cpus().length >= 2;

async function profileOne(env: BenchEnv, backendPort: number, outDir: string, mode: 'fixed' | 'saturation'): Promise<string> {
  const dir = `${outDir}/${mode}`;
  mkdirSync(dir, { recursive: true });
  const t = await trellis(env, backendPort, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--trace-gc'] });
  try {
    await fixedRate(t.port, RATE, 3); // warm-up: JIT, pools
    const gcBefore = allocatedMiB(t.proc.output());
    const c0 = cpuSeconds(t.pids[0]!);
    let requests: number;
    if (mode === 'fixed') requests = (await fixedRate(t.port, RATE, SECONDS)).ok;
    else requests = (await wrk(t.port, SECONDS, SAT_CONNS, pinned ? 1 : undefined)).requests;
    const cpu = cpuSeconds(t.pids[0]!) - c0;
    await sleep(100);
    const alloc = allocatedMiB(t.proc.output()) - gcBefore;
    await t.stop();
    const prof = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    const head = `## ${mode} (${requests} requests in ${SECONDS} s)\n\nCPU ${((cpu / requests) * 1e6).toFixed(1)} µs/request; ` +
      `allocated ≈ ${((alloc * 2 ** 20) / requests / 1024).toFixed(1)} KiB/request (young-generation growth between --trace-gc scavenges)\n\n`;
    return head + (prof ? `${byComponent(`${dir}/${prof}`)}\n\n${topSelf(`${dir}/${prof}`, 25)}` : '(no profile written)') + '\n';
  } finally {
    await t.stop();
  }
}

/** Allocation sites at the fixed rate, from V8's sampling heap profiler (alloc-profile-preload.ts). */
async function allocations(env: BenchEnv, backendPort: number, outDir: string): Promise<string> {
  const file = `${outDir}/alloc.heapprofile`;
  const preload = fileURLToPath(new URL('./alloc-profile-preload.js', import.meta.url));
  process.env.TRELLIS_ALLOC_PROFILE = file;
  const t = await trellis(env, backendPort, { nodeFlags: ['--import', preload] });
  delete process.env.TRELLIS_ALLOC_PROFILE;
  try {
    await fixedRate(t.port, RATE, 3);
    t.proc.proc.kill('SIGUSR2');
    await sleep(200);
    const r = await fixedRate(t.port, RATE, SECONDS);
    t.proc.proc.kill('SIGPWR');
    const deadline = Date.now() + 5000;
    while (!existsSync(file) && Date.now() < deadline) await sleep(50);
    await sleep(300);
    return `## allocations at ${RATE} rps (${r.ok} requests)\n\n${existsSync(file) ? allocationSites(file, r.ok, 25) : '(no heap profile written)'}\n`;
  } finally {
    await t.stop();
  }
}

async function main(): Promise<void> {
  killAllOnExit();
  if (pinned) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const outDir = process.argv[2] ?? mkdtempSync(`${tmpdir()}/trellis-proxyprof-`);
  const dir = mkdtempSync(`${tmpdir()}/trellis-proxybench-`);
  const env: BenchEnv = { dir, core: pinned ? 0 : undefined };
  try {
    // The backend runs beside the load generator here, not on the proxy's core: the profile is
    // sampled in wall time, and a backend sharing the core shows up as time "in" the proxy's writes.
    const backend = await startBackend({ ...env, core: pinned ? 1 : undefined });
    const alloc = await allocations(env, backend.port, outDir);
    const fixed = await profileOne(env, backend.port, outDir, 'fixed');
    const sat = await profileOne(env, backend.port, outDir, 'saturation');
    console.log(`# trellis proxy profile (profiles in ${outDir})\n\n${fixed}\n${sat}\n${alloc}`);
  } finally {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
