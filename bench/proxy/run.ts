/**
 * The proxy benchmark: trellis proxy vs haproxy vs nginx vs a direct call,
 * one backend (nginx, 1 KiB body), loopback, HTTP/1.1 keep-alive. Proxies and
 * backend on core 0, load generator (this process, wrk) on core 1. Prints the
 * table with the goals of issue 3 and saves it under bench/results/.
 *
 *   taskset -c 1 node dist/bench/proxy/run.js        (env knobs: see README.md)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { saveResults } from '../lib/machine.js';
import { fixedRate, wrk } from './load.js';
import { childPids, cpuSeconds, foreignLoad, killAll, killAllOnExit, rssMiB, sleep, spinner } from './procs.js';
import { benchPki, chain, direct, haproxy, nginx, startBackend, trellis, type BenchEnv, type Target } from './targets.js';
import { goalRows, median, type Measured } from './report.js';
import { handshakeLoad } from './handshakes.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const RATE = num('BENCH_RATE', 1000);
const SECONDS = num('BENCH_SECONDS', 6);
const WARMUP = num('BENCH_WARMUP_SECONDS', 3);
const SAT_SECONDS = num('BENCH_SAT_SECONDS', 5);
const SAT_CONNS = num('BENCH_SAT_CONNECTIONS', 32);
const REPEATS = num('BENCH_REPEATS', 5);
const TWO_HOP = process.env.BENCH_TWO_HOP !== '0';
const IDLE_SETTLE_SECONDS = Number(process.env.BENCH_IDLE_SETTLE_SECONDS ?? 12);
const SPIN = process.env.BENCH_SPIN !== '0';
const LABEL = process.env.BENCH_LABEL ?? '';
const ONLY = process.env.BENCH_ONLY?.split(',');

const pinned = cpus().length >= 2;
const PROXY_CORE = pinned ? 0 : undefined;
const LOAD_CORE = pinned ? 1 : undefined;

const sumCpu = (pids: number[]) => pids.reduce((s, p) => s + cpuSeconds(p), 0);
const sumRss = (pids: number[]) => pids.reduce((s, p) => s + rssMiB(p), 0);

async function main(): Promise<void> {
  killAllOnExit();
  if (LOAD_CORE !== undefined) execFileSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  const dir = mkdtempSync(`${tmpdir()}/trellis-proxybench-`);
  const env: BenchEnv = { dir, core: PROXY_CORE };
  const targets: Target[] = [];
  try {
    const backend = await startBackend(env);
    console.log(`backend nginx on 127.0.0.1:${backend.port}`);

    // Start → first config applied, on fresh processes.
    const starts: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const t = await trellis(env, backend.port);
      starts.push(t.startMs!);
      await t.stop();
    }
    console.log(`trellis start → /ready: ${starts.map((s) => s.toFixed(0)).join(', ')} ms`);

    const want = (n: string) => !ONLY || ONLY.includes(n);
    targets.push(direct(backend.port));
    if (want('haproxy')) targets.push(await haproxy(env, backend.port));
    if (want('nginx')) targets.push(await nginx(env, backend.port));
    if (want('trellis')) targets.push(await trellis(env, backend.port));
    if (TWO_HOP && want('haproxy-2hop')) {
      const second = await haproxy(env, backend.port, 'haproxy-hop2');
      targets.push(chain(await haproxy(env, second.port, 'haproxy-hop1'), second, 'haproxy-2hop'));
    }
    if (TWO_HOP && want('trellis-2hop')) {
      const second = await trellis(env, backend.port);
      targets.push(chain(await trellis(env, second.port), second, 'trellis-2hop'));
    }
    // Two hops with Istio mTLS between them (SDS certificates from a real openssl CA), haproxy alike.
    const mtls = TWO_HOP && (want('haproxy-2hop-mtls') || want('trellis-2hop-mtls')) ? benchPki(env) : undefined;
    /** The mTLS-terminating hops, for the handshake phase. */
    const mtlsServers: Target[] = [];
    if (mtls && want('haproxy-2hop-mtls')) {
      const second = await haproxy(env, backend.port, 'haproxy-mtls-hop2', { role: 'server', pki: mtls.pki, pem: mtls.server });
      mtlsServers.push(second);
      targets.push(chain(await haproxy(env, second.port, 'haproxy-mtls-hop1', { role: 'client', pki: mtls.pki, pem: mtls.client }), second, 'haproxy-2hop-mtls'));
    }
    if (mtls && want('trellis-2hop-mtls')) {
      const second = await trellis(env, backend.port, { tls: { role: 'server', pki: mtls.pki, pem: mtls.server } });
      mtlsServers.push({ ...second, name: 'trellis-mtls-hop2' });
      targets.push(chain(await trellis(env, second.port, { tls: { role: 'client', pki: mtls.pki, pem: mtls.client } }), second, 'trellis-2hop-mtls'));
    }
    // Idle RSS is read once start-up has settled: V8's memory reducer shrinks the young generation that
    // loading grew (~8 MiB for trellis) some seconds after the process goes quiet.
    await sleep(IDLE_SETTLE_SECONDS * 1000);
    const m = new Map<string, Measured>(targets.map((t) => [t.name, {
      name: t.name, hops: t.name.includes('2hop') ? 2 : t.name === 'direct' ? 0 : 1,
      idleRss: t.pids.length ? sumRss(t.pids) : NaN, startMs: t.name === 'trellis' ? median(starts) : NaN,
      fixed: [], sat: [],
    }]));

    let spin = SPIN ? spinner(PROXY_CORE) : undefined;
    for (const t of targets) {
      const w = await fixedRate(t.port, RATE, WARMUP);
      console.log(`warm-up ${t.name}: ${w.ok} ok, ${w.errors} errors, p50 ${w.latency.p50.toFixed(3)} ms`);
    }
    for (let rep = 0; rep < REPEATS; rep++) {
      for (const t of targets) {
        const c0 = sumCpu(t.pids);
        let rss = 0;
        const sampler = setInterval(() => { if (t.pids.length) rss = Math.max(rss, sumRss(t.pids)); }, 250);
        const { result: r, foreign } = await foreignLoad(childPids, () => fixedRate(t.port, RATE, SECONDS));
        clearInterval(sampler);
        const cpu = sumCpu(t.pids) - c0;
        m.get(t.name)!.fixed.push({ ...r.latency, ok: r.ok, errors: r.errors, rate: r.rate, cpuUsPerReq: t.pids.length ? (cpu / r.ok) * 1e6 : NaN, rss: t.pids.length ? rss : NaN, foreign });
        console.log(`[${rep + 1}/${REPEATS}] ${t.name} @${r.rate.toFixed(0)} rps: p50 ${r.latency.p50.toFixed(3)} p99 ${r.latency.p99.toFixed(3)} ms, cpu ${t.pids.length ? ((cpu / r.ok) * 1e6).toFixed(1) : '-'} µs/req, errors ${r.errors}, foreign load ${foreign.toFixed(2)} cores`);
      }
    }
    await spin?.stop();
    spin = undefined;
    for (let rep = 0; rep < REPEATS; rep++) {
      for (const t of targets) {
        const c0 = sumCpu(t.pids);
        const { result: r, foreign } = await foreignLoad(childPids, () => wrk(t.port, SAT_SECONDS, SAT_CONNS, LOAD_CORE));
        const cpu = sumCpu(t.pids) - c0;
        m.get(t.name)!.sat.push({ rps: r.rps, errors: r.errors, p50: r.p50, p99: r.p99, cpuUsPerReq: t.pids.length ? (cpu / r.requests) * 1e6 : NaN, foreign });
        console.log(`[${rep + 1}/${REPEATS}] ${t.name} saturation: ${r.rps.toFixed(0)} rps, p99 ${r.p99} ms, errors ${r.errors}, foreign load ${foreign.toFixed(2)} cores`);
      }
    }

    // New mTLS connections at the server hop: connect with a client certificate, one request, close.
    const handshakes: Array<{ name: string; perSecond: number; cpuUs: number; errors: number }> = [];
    for (const t of mtlsServers) {
      const runs = [];
      for (let rep = 0; rep < REPEATS; rep++) {
        const c0 = sumCpu(t.pids);
        const r = await handshakeLoad(t.port, mtls!.client, mtls!.pki.ca.cert, SAT_SECONDS);
        runs.push({ perSecond: r.connections / r.seconds, cpuUs: ((sumCpu(t.pids) - c0) / r.connections) * 1e6, errors: r.errors });
        console.log(`[${rep + 1}/${REPEATS}] ${t.name} handshakes: ${(r.connections / r.seconds).toFixed(0)}/s, errors ${r.errors}`);
      }
      handshakes.push({ name: t.name, perSecond: median(runs.map((x) => x.perSecond)), cpuUs: median(runs.map((x) => x.cpuUs)), errors: runs.reduce((n, x) => n + x.errors, 0) });
    }
    const hsTable = handshakes.length === 0 ? '' : `\n\nNew mTLS connections at the server hop (client certificate, one request, close; ${SAT_SECONDS} s × ${REPEATS}, medians):\n\n| server | connections/s | CPU µs per connection | errors |\n|---|---|---|---|\n${
      handshakes.map((h) => `| ${h.name} | ${h.perSecond.toFixed(0)} | ${h.cpuUs.toFixed(0)} | ${h.errors} |`).join('\n')}`;

    const { table, goals, rows } = goalRows([...m.values()]);
    const config = { rate: RATE, seconds: SECONDS, warmup: WARMUP, satSeconds: SAT_SECONDS, satConnections: SAT_CONNS, repeats: REPEATS, spin: SPIN, pinned, body: '1 KiB', backend: 'nginx' };
    const text = `Config: ${JSON.stringify(config)}\n\n${table}\n\nGoals (trellis vs haproxy, one hop):\n\n${goals}${hsTable}`;
    console.log(`\n${text}`);
    const base = saveResults(`proxy${LABEL ? `-${LABEL}` : ''}`, text, { config, rows, handshakes, raw: [...m.values()] });
    console.log(`saved ${base}.md`);
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
