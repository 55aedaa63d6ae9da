/**
 * Issue 15's memory comparison: one `trellis up` mesh holding the same
 * workload twice — N pods in a namespace with sidecars, N pods in an ambient
 * namespace served by one node proxy — and the data plane's memory of each,
 * side by side in one run, idle and after traffic through both. The numbers
 * are the ones `trellis up` shows its user ("data plane memory: …", the RSS
 * of the sidecar processes and of the node proxy, read from /proc), sampled
 * a few times and taken as the median. Goal: the node proxy ≤ 25 % of the
 * sidecars' total. Needs root (network namespaces). Saves
 * bench/results/ambient-memory-DATE.{md,json}.
 *
 * BENCH_PODS (default 20) pods per mode; BENCH_REQUESTS (default 2000) requests
 * per mode in the traffic phase.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatTable, saveResults } from './lib/machine.js';

const PODS = Number(process.env.BENCH_PODS ?? 20);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const BIN = fileURLToPath(new URL('../bundle/main.js', import.meta.url));
const MEMORY = /^data plane memory: (\d+) sidecars (\d+) MiB · node proxy (\d+) MiB for (\d+) ambient pods/;

/** One namespace of the workload: N-1 web servers behind a Service, one client. */
function namespaceYaml(ns: string, labels: string): string {
  return `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}, labels: {${labels}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${PODS - 1}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
      - {name: web, image: ignored, command: [python3, -m, http.server, "8080", --directory, /usr/share/common-licenses], ports: [{containerPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      serviceAccountName: client
      containers:
      - {name: client, image: ignored, command: [sleep, "3600"]}
`;
}

interface Sample { sidecars: number; sidecarMiB: number; nodeProxyMiB: number; ambientPods: number }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the pods are network namespaces');
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-ambient-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'trellis-bench-ambient-state-'));
  writeFileSync(join(dir, 'mesh.yaml'), [namespaceYaml('sidecars', 'istio-injection: enabled'), namespaceYaml('ambient', 'istio.io/dataplane-mode: ambient')].join('---\n'));
  const env = { ...process.env, TRELLIS_STATE_FILE: join(stateDir, 'state.json') };
  const up = spawn(process.execPath, [BIN, 'up', dir, '--status-every', '2'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const samples: Sample[] = [];
  createInterface({ input: up.stdout! }).on('line', (l) => {
    const m = MEMORY.exec(l.trim());
    if (m) samples.push({ sidecars: Number(m[1]), sidecarMiB: Number(m[2]), nodeProxyMiB: Number(m[3]), ambientPods: Number(m[4]) });
  });
  let gone = false;
  const exited = new Promise<void>((resolve) => up.once('exit', () => ((gone = true), resolve())));
  const started = Date.now();
  /** Waits (bounded) for `count` new samples of the whole mesh, returns them. */
  const collect = async (count: number, limitMs: number): Promise<Sample[]> => {
    const from = samples.length;
    const deadline = Date.now() + limitMs;
    const whole = () => samples.slice(from).filter((s) => s.sidecars === PODS && s.ambientPods === PODS);
    while (whole().length < count && Date.now() < deadline && !gone) await new Promise((r) => setTimeout(r, 500));
    const got = whole();
    if (got.length < count) throw new Error(`only ${got.length} of ${count} status samples of the whole mesh${gone ? ' (trellis up exited)' : ` within ${limitMs} ms`}`);
    return got.slice(0, count);
  };
  const traffic = (ns: string) => {
    const script = `import urllib.request as u\nfor _ in range(${REQUESTS}): u.urlopen('http://web.${ns}.svc.cluster.local:8080/', timeout=5).read()`;
    const r = spawnSync(process.execPath, [BIN, 'exec', '-n', ns, 'deploy/client', '--', 'python3', '-c', script], { env, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`traffic in ${ns}: exit ${r.status}: ${r.stderr}`);
  };
  try {
    const idle = await collect(5, 300_000);
    const readyS = (Date.now() - started) / 1000;
    const t0 = Date.now();
    traffic('sidecars');
    const sidecarTrafficS = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    traffic('ambient');
    const ambientTrafficS = (Date.now() - t1) / 1000;
    const loaded = await collect(5, 60_000);
    const row = (phase: string, xs: Sample[]) => {
      const side = median(xs.map((s) => s.sidecarMiB));
      const node = median(xs.map((s) => s.nodeProxyMiB));
      return { phase, sidecarsMiB: side, perSidecarMiB: side / PODS, nodeProxyMiB: node, ratio: node / side };
    };
    const rows = [row('idle (all SYNCED)', idle), row(`after ${REQUESTS} requests per mode`, loaded)];
    const table = formatTable(
      ['phase', `${PODS} sidecars (MiB)`, 'per sidecar', `node proxy for ${PODS} ambient pods (MiB)`, 'node proxy / sidecars', 'goal ≤ 25 %'],
      rows.map((r) => [r.phase, r.sidecarsMiB, r.perSidecarMiB.toFixed(1), r.nodeProxyMiB, `${(100 * r.ratio).toFixed(1)} %`, r.ratio <= 0.25 ? 'met' : 'NOT met']),
    );
    const notes = `Mesh ready (all ${2 * PODS} pods, status showing both) in ${readyS.toFixed(0)} s; ${REQUESTS} sequential requests took ${sidecarTrafficS.toFixed(1)} s through two sidecars and ${ambientTrafficS.toFixed(1)} s through the node proxy (HBONE, mTLS). Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`;
    process.stdout.write(`${table}\n\n${notes}\n`);
    const base = saveResults('ambient-memory', `${table}\n\n${notes}`, { pods: PODS, requests: REQUESTS, rows, idle, loaded, readyS, sidecarTrafficS, ambientTrafficS });
    process.stdout.write(`saved ${base}.{md,json}\n`);
  } finally {
    up.kill('SIGINT');
    const killer = setTimeout(() => up.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
