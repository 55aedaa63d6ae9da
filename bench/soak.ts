/**
 * The soak of issue 12: SOAK_SECONDS (600) at SOAK_RATE (1,000) requests per
 * second through two sidecars — load → client sidecar → (Istio mTLS) →
 * server sidecar → backend (nginx) — with a config change every
 * SOAK_CHANGE_SECONDS (10: the client's route weights flip between its two
 * clusters and both sidecars' response header values change) and a control
 * plane restart in the middle (both ADS servers stopped, SOAK_DOWN_SECONDS
 * later new ones on the same ports). Every SOAK_CHANGE_SECONDS it records the
 * failed requests, p50/p99, and each proxy's RSS and open descriptors; at the
 * end it checks the goals (no failed request, RSS flat within 10 % after
 * warm-up, no descriptor growth) and saves bench/results/soak-DATE.{md,json}.
 *
 *   npm run bench:soak            (SOAK_SECONDS=60 for a short run; SOAK_MTLS=0 for plaintext between the sidecars)
 *
 * Not pinned to cores, and not alone: it measures stability, not speed, and
 * says in its results what else ran on the machine (load average).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { Any } from '@bufbuild/protobuf/wkt';
import { TypeUrl } from '../src/xds/type-urls.js';
import { FakeAdsServer } from '../test/integration/proxy/fake-ads-server.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig, type RouteInit } from '../test/integration/proxy/xds-builders.js';
import { caSecret, certSecret, withDownstreamMtls, withUpstreamMtls } from '../test/integration/proxy/tls-builders.js';
import { spiffe } from '../test/helpers/pki.js';
import { formatTable, saveResults } from './lib/machine.js';
import { percentiles, type Percentiles } from './proxy/load.js';
import { freePort, killAllOnExit, rssMiB, sleep, spawnPinned, waitForPort, type Spawned } from './proxy/procs.js';
import { benchPki, startBackend, waitReady, type BenchEnv } from './proxy/targets.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const SECONDS = num('SOAK_SECONDS', 600);
const RATE = num('SOAK_RATE', 1000);
const WINDOW_S = num('SOAK_CHANGE_SECONDS', 10);
const DOWN_S = num('SOAK_DOWN_SECONDS', 5);
/** Samples before this are warm-up (JIT, pools, heap growth): the flatness goals start after it. */
const WARMUP_S = num('SOAK_WARMUP_SECONDS', Math.min(60, SECONDS / 5));
const CONNECTIONS = num('SOAK_CONNECTIONS', 32);
const MTLS = process.env.SOAK_MTLS !== '0';
const MAIN = process.env.SOAK_TRELLIS_MAIN ?? fileURLToPath(new URL('../bundle/main.js', import.meta.url));

/** The identities benchPki() issues (bench/proxy/targets.ts). */
const CLIENT_SAN = spiffe('default', 'bench-client');
const SERVER_SAN = spiffe('default', 'bench-server');

/** One sidecar: its process, its ports, and the ADS server that configures it (replaced on restart). */
interface Sidecar {
  name: string;
  port: number;
  adminPort: number;
  proc: Spawned;
  ads: FakeAdsServer;
  adsPort: number;
}

/** What the sidecars serve for config generation `gen`; `tls` = the PKI's PEMs when mTLS is on. */
type Tls = ReturnType<typeof benchPki> | undefined;

function clientConfig(gen: number, serverPort: number, tls: Tls): Array<[string, string, Any]> {
  // The weights flip each generation: 90/10, then 10/90; both clusters lead to the server sidecar.
  const wa = gen % 2 === 0 ? 90 : 10;
  const cluster = (name: string) => {
    const c = edsCluster(name);
    return tls ? withUpstreamMtls(c, { sans: [SERVER_SAN] }) : c;
  };
  const route = {
    ...prefixRoute('/', 'server-a', { clusterSpecifier: { case: 'weightedClusters', value: { clusters: [{ name: 'server-a', weight: wa }, { name: 'server-b', weight: 100 - wa }] } } }),
    responseHeadersToAdd: [{ header: { key: 'x-soak-client', value: String(gen) } }],
  } as RouteInit;
  const out: Array<[string, string, Any]> = [
    [TypeUrl.Listener, 'soak-out', httpListener('soak-out', 'soak-out-route', 0)],
    [TypeUrl.RouteConfiguration, 'soak-out-route', routeConfig('soak-out-route', [{ name: 'all', domains: ['*'], routes: [route] }])],
    [TypeUrl.Cluster, 'server-a', cluster('server-a')],
    [TypeUrl.Cluster, 'server-b', cluster('server-b')],
    [TypeUrl.ClusterLoadAssignment, 'server-a', endpoints('server-a', [serverPort])],
    [TypeUrl.ClusterLoadAssignment, 'server-b', endpoints('server-b', [serverPort])],
  ];
  if (tls) out.push([TypeUrl.Secret, 'default', certSecret('default', tls.client)], [TypeUrl.Secret, 'ROOTCA', caSecret('ROOTCA', tls.pki.ca.cert)]);
  return out;
}

function serverConfig(gen: number, port: number, backendPort: number, tls: Tls): Array<[string, string, Any]> {
  const listener = httpListener('soak-in', 'soak-in-route', port);
  const route = { ...prefixRoute('/', 'backend'), responseHeadersToAdd: [{ header: { key: 'x-soak-server', value: String(gen) } }] } as RouteInit;
  const out: Array<[string, string, Any]> = [
    [TypeUrl.Listener, 'soak-in', tls ? withDownstreamMtls(listener, { sans: [CLIENT_SAN] }) : listener],
    [TypeUrl.RouteConfiguration, 'soak-in-route', routeConfig('soak-in-route', [{ name: 'all', domains: ['*'], routes: [route] }])],
    [TypeUrl.Cluster, 'backend', edsCluster('backend')],
    [TypeUrl.ClusterLoadAssignment, 'backend', endpoints('backend', [backendPort])],
  ];
  if (tls) out.push([TypeUrl.Secret, 'default', certSecret('default', tls.server)], [TypeUrl.Secret, 'ROOTCA', caSecret('ROOTCA', tls.pki.ca.cert)]);
  return out;
}

function apply(ads: FakeAdsServer, resources: Array<[string, string, Any]>): void {
  for (const [type, name, any] of resources) ads.set(type, name, any);
  ads.push();
}

async function startSidecar(name: string, port: number, resources: Array<[string, string, Any]>): Promise<Sidecar> {
  const ads = new FakeAdsServer();
  for (const [type, n, any] of resources) ads.set(type, n, any);
  const adsPort = await ads.start();
  const adminPort = await freePort();
  const proc = spawnPinned(undefined, process.execPath, [
    MAIN, 'proxy', '--xds-address', `127.0.0.1:${adsPort}`, '--node-id', `sidecar~127.0.0.1~${name}.default~default.svc.cluster.local`,
    '--admin-port', String(adminPort), '--drain-seconds', '1',
  ], { ISTIO_META_WORKLOAD_NAME: name, ISTIO_META_NAMESPACE: 'default', TRELLIS_LOG: 'warn' });
  await waitReady(adminPort, proc);
  return { name, port, adminPort, proc, ads, adsPort };
}

/** The control plane restart: the ADS server goes away; later a new one, same port, same resources, comes up. */
async function restartAds(s: Sidecar, resources: () => Array<[string, string, Any]>, downMs: number): Promise<number> {
  s.ads.stop();
  await sleep(downMs);
  const ads = new FakeAdsServer();
  for (const [type, n, any] of resources()) ads.set(type, n, any);
  await ads.start(s.adsPort);
  s.ads = ads;
  const t0 = performance.now();
  while (ads.streams === 0 && performance.now() - t0 < 60_000) await sleep(20);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const fds = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
};

interface Window {
  t: number;
  sent: number;
  failed: number;
  latency: Percentiles;
  rss: number[];
  fds: number[];
  gen: number;
  event: string;
}

/**
 * Open-loop load: `rate` requests per second on schedule, latencies and failures kept per window
 * (`take()` hands over the current window and starts the next). A failure is anything but a 200.
 */
class Load {
  readonly #pool: Pool;
  readonly failures = new Map<string, number>();
  #lat: number[] = [];
  #failed = 0;
  #sent = 0;
  #inFlight = 0;
  #stopped = false;
  total = { sent: 0, failed: 0 };
  all: number[] = [];

  constructor(port: number) {
    this.#pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 120_000 });
  }

  run(rate: number, seconds: number): Promise<void> {
    const total = Math.round(rate * seconds);
    const start = performance.now();
    return new Promise((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
        while (this.total.sent < due && !this.#stopped) this.#one();
        if (this.total.sent >= total || this.#stopped) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
  }

  #one(): void {
    this.total.sent++;
    this.#sent++;
    this.#inFlight++;
    const t = performance.now();
    const fail = (why: string) => {
      this.#failed++;
      this.total.failed++;
      this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
    };
    this.#pool.request({ path: '/soak', method: 'GET', headers: { host: 'soak.local' }, headersTimeout: 10_000, bodyTimeout: 10_000 }).then(
      async (r) => {
        await r.body.dump({ limit: 1 << 20 });
        const ms = performance.now() - t;
        this.#lat.push(ms);
        if (r.statusCode !== 200) fail(`HTTP ${r.statusCode}`);
      },
      (e: { code?: string; message?: string }) => fail(e.code ?? e.message ?? 'error'),
    ).finally(() => { this.#inFlight--; });
  }

  take(): { sent: number; failed: number; latency: Percentiles } {
    const w = { sent: this.#sent, failed: this.#failed, latency: percentiles(this.#lat) };
    for (const x of this.#lat) this.all.push(x);
    this.#lat = [];
    this.#sent = 0;
    this.#failed = 0;
    return w;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    const deadline = Date.now() + 15_000;
    while (this.#inFlight > 0 && Date.now() < deadline) await sleep(20);
    await this.#pool.destroy();
  }
}

/** One request through both sidecars: the generations their response headers say (config applied end to end). */
async function probe(pool: Pool): Promise<{ client: string; server: string }> {
  const r = await pool.request({ path: '/probe', method: 'GET', headers: { host: 'soak.local' } });
  await r.body.dump();
  return { client: String(r.headers['x-soak-client'] ?? ''), server: String(r.headers['x-soak-server'] ?? '') };
}

async function main(): Promise<void> {
  killAllOnExit();
  const dir = mkdtempSync(`${tmpdir()}/trellis-soak-`);
  const env: BenchEnv = { dir, core: undefined };
  const load0 = loadavg();
  const sidecars: Sidecar[] = [];
  let backend: Awaited<ReturnType<typeof startBackend>> | undefined;
  try {
    const be = await startBackend(env);
    backend = be;
    const tls = MTLS ? benchPki(env) : undefined;
    const serverPort = await freePort();
    let gen = 0;
    const server = await startSidecar('soak-server', serverPort, serverConfig(gen, serverPort, be.port, tls));
    await waitForPort(serverPort);
    const client = await startSidecar('soak-client', 0, clientConfig(gen, serverPort, tls));
    sidecars.push(client, server);
    client.port = await listenerPort(client.adminPort, 'soak-out');
    console.log(`backend :${be.port}, server sidecar :${serverPort} (pid ${server.proc.pid}), client sidecar :${client.port} (pid ${client.proc.pid}), ${MTLS ? 'mTLS' : 'plaintext'} between them`);
    console.log(`${SECONDS} s at ${RATE} rps, a config change every ${WINDOW_S} s, control plane restart at ${Math.round(SECONDS / 2)} s`);

    const load = new Load(client.port);
    // One keep-alive connection for the probes, so they add no connection churn to what is measured.
    const probes = new Pool(`http://127.0.0.1:${client.port}`, { connections: 1 });
    const running = load.run(RATE, SECONDS);
    const windows: Window[] = [];
    const applyLatency: number[] = [];
    let reconnectMs: number[] = [];
    const t0 = performance.now();
    const restartAt = Math.floor(SECONDS / 2 / WINDOW_S) * WINDOW_S;
    for (let t = WINDOW_S; t <= SECONDS; t += WINDOW_S) {
      await sleep(Math.max(0, t0 + t * 1000 - performance.now()));
      let event = '';
      if (t === restartAt) {
        // The restart: the sidecars keep serving on what they have; a config change made while down arrives after.
        gen++;
        const down = Math.round(DOWN_S * 1000);
        reconnectMs = await Promise.all([
          restartAds(client, () => clientConfig(gen, serverPort, tls), down),
          restartAds(server, () => serverConfig(gen, serverPort, be.port, tls), down),
        ]);
        event = `control plane down ${DOWN_S} s, restarted (gen ${gen}); streams back after ${reconnectMs.map((m) => m.toFixed(0)).join('/')} ms`;
      } else if (t < SECONDS) {
        gen++;
        apply(client.ads, clientConfig(gen, serverPort, tls));
        apply(server.ads, serverConfig(gen, serverPort, be.port, tls));
        const a0 = performance.now();
        const want = String(gen);
        let seen = await probe(probes).catch(() => ({ client: '', server: '' }));
        while ((seen.client !== want || seen.server !== want) && performance.now() - a0 < 5000) {
          await sleep(10);
          seen = await probe(probes).catch(() => seen);
        }
        const ms = performance.now() - a0;
        if (seen.client === want && seen.server === want) applyLatency.push(ms);
        event = seen.client === want && seen.server === want ? `config ${gen} (${ms.toFixed(0)} ms)` : `config ${gen} NOT SEEN in 5 s`;
      }
      const w = load.take();
      windows.push({ t, ...w, rss: sidecars.map((s) => rssMiB(s.proc.pid)), fds: sidecars.map((s) => fds(s.proc.pid)), gen, event });
      const last = windows[windows.length - 1]!;
      console.log(`${String(t).padStart(4)} s  sent ${w.sent}  failed ${w.failed}  p50 ${w.latency.p50.toFixed(2)}  p99 ${w.latency.p99.toFixed(2)} ms  RSS ${last.rss.map((r) => r.toFixed(1)).join('/')} MiB  fds ${last.fds.join('/')}  ${event}`);
    }
    await running;
    await load.close();
    await probes.destroy();
    const tail = load.take();
    const load1 = loadavg();
    report(windows, load, tail, applyLatency, reconnectMs, load0, load1);
  } finally {
    for (const s of sidecars) {
      await s.proc.stop();
      s.ads.stop();
    }
    // The backend's pipes kept the process alive after the report (nginx outlived the run until killed).
    await backend?.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function listenerPort(adminPort: number, name: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const pool = new Pool(`http://127.0.0.1:${adminPort}`, { connections: 1 });
    const r = await pool.request({ path: '/listeners?format=json', method: 'GET' });
    const j = JSON.parse(await r.body.text()) as { listener_statuses: Array<{ name: string; local_address: { socket_address: { port_value: number } } }> };
    await pool.destroy();
    const p = j.listener_statuses.find((l) => l.name === name)?.local_address.socket_address.port_value;
    if (p) return p;
    await sleep(50);
  }
  throw new Error(`listener ${name} not bound`);
}

function report(windows: Window[], load: Load, tail: { sent: number; failed: number }, applyMs: number[], reconnectMs: number[], load0: number[], load1: number[]): void {
  const names = ['client sidecar', 'server sidecar'];
  const after = windows.filter((w) => w.t > WARMUP_S);
  const overall = percentiles(load.all);
  const failures = load.total.failed;
  const rows: (string | number)[][] = windows.map((w) => [
    w.t, w.sent, w.failed, w.latency.p50.toFixed(2), w.latency.p99.toFixed(2),
    ...w.rss.map((r) => r.toFixed(1)), ...w.fds, w.event,
  ]);
  const perWindow = formatTable(['t (s)', 'sent', 'failed', 'p50 ms', 'p99 ms', 'RSS client MiB', 'RSS server MiB', 'fds client', 'fds server', 'event'], rows);
  const goals: (string | number)[][] = [];
  goals.push(['failed requests', `${failures} of ${load.total.sent}${failures ? ` (${[...load.failures].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`, '0', failures === 0 ? 'met' : 'NOT met']);
  names.forEach((name, i) => {
    const rss = after.map((w) => w.rss[i]!);
    const first = rss[0] ?? NaN;
    const max = Math.max(...rss);
    const min = Math.min(...rss);
    const last = rss[rss.length - 1] ?? NaN;
    const spread = (max - min) / first;
    goals.push([`${name} RSS after ${WARMUP_S} s warm-up`, `${first.toFixed(1)} → ${last.toFixed(1)} MiB (min ${min.toFixed(1)}, max ${max.toFixed(1)}; spread ${(spread * 100).toFixed(1)} %)`, 'flat within 10 %', spread <= 0.1 ? 'met' : 'NOT met']);
    // The trend, which a GC step or an early fall does not move: median of the first third against the last third.
    const third = Math.max(1, Math.floor(rss.length / 3));
    const [early, late] = [median(rss.slice(0, third)), median(rss.slice(-third))];
    goals.push([`${name} RSS trend (median, first → last third)`, `${early.toFixed(1)} → ${late.toFixed(1)} MiB (${(((late - early) / early) * 100).toFixed(1)} %)`, 'no growth over 10 %', late <= early * 1.1 ? 'met' : 'NOT met']);
    const f = after.map((w) => w.fds[i]!);
    const grew = (f[f.length - 1] ?? 0) - (f[0] ?? 0);
    goals.push([`${name} open fds after warm-up`, `${f[0]} → ${f[f.length - 1]} (max ${Math.max(...f)})`, 'no growth', grew <= 0 ? 'met' : `NOT met (+${grew})`]);
  });
  goals.push(['latency through both sidecars, whole run', `p50 ${overall.p50.toFixed(2)} ms, p99 ${overall.p99.toFixed(2)} ms, p99.9 ${overall.p999.toFixed(2)} ms, max ${overall.max.toFixed(1)} ms`, '', '']);
  if (applyMs.length) {
    const a = percentiles(applyMs);
    goals.push(['config change → seen on both sidecars', `${applyMs.length} changes; median ${a.p50.toFixed(0)} ms, max ${a.max.toFixed(0)} ms`, '', '']);
  }
  if (reconnectMs.length) goals.push(['ADS streams back after the restart', reconnectMs.map((m) => `${m.toFixed(0)} ms`).join(', '), '', '']);
  const summary = formatTable(['what', 'measured', 'goal', ''], goals);
  const setup = [
    `${SECONDS} s at ${RATE} rps (${CONNECTIONS} keep-alive connections, open loop) through two trellis sidecars, ${MTLS ? 'Istio mTLS (SDS certificates, SAN checks)' : 'plaintext'} between them; backend nginx.`,
    `A config change every ${WINDOW_S} s on both sidecars (client: weighted clusters 90/10 ↔ 10/90 and a response header value; server: a response header value);`,
    `the control plane (both ADS servers) stopped at ${Math.floor(SECONDS / 2 / WINDOW_S) * WINDOW_S} s and new ones started on the same ports ${DOWN_S} s later. Requests still in flight at the end: ${tail.sent} sent in the last partial window.`,
    `Shared machine: not pinned, not alone — other sessions' builds and tests ran on the same 2 cores (load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at the end), so latency figures are an upper bound.`,
  ].join('\n');
  const table = `${setup}\n\n${summary}\n\nPer ${WINDOW_S} s window:\n\n${perWindow}`;
  console.log(`\n${table}`);
  const base = saveResults('soak', table, { seconds: SECONDS, rate: RATE, mtls: MTLS, total: load.total, failures: Object.fromEntries(load.failures), overall, windows, applyMs, reconnectMs, loadavg: { start: load0, end: load1 } });
  console.log(`\nsaved ${base}.md`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
