/**
 * Endpoint churn (issue 16): BENCH_CHURN_RATE pod changes per second for
 * BENCH_CHURN_SECONDS against the real `trellis controlplane`, with
 * BENCH_PROXIES simulated sidecars connected (push-mesh.ts, as bench:push).
 * Each change is one service's EndpointSlice rewritten in a file of its own
 * (a pod added, a pod gone, a pod's readiness flipped: churn-plan.ts), the way
 * a Kubernetes source would see it. Measures, for every proxy, the time from
 * the last change until it holds (and has ACKed) the final endpoints of every
 * service's clusters — read from the load assignments it received, not
 * inferred from "something arrived" —, p50 and max over proxies; the control
 * plane's CPU (/proc/PID/stat) and peak RSS (VmRSS sampled) from the first
 * change until the last proxy converged; its pushes and its source's states
 * (its log); the responses by type. BENCH_CPU_PROF=DIR also profiles the
 * control plane during the same window (cpu-profile-preload.ts) and prints
 * where its CPU went.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { endpointSliceOf, syntheticMesh, type MeshSize } from './lib/synthetic-mesh.js';
import { ChurnPlan } from './lib/churn-plan.js';
import { formatTable, saveResults, uptime } from './lib/machine.js';
import { goals, median, typesText, verdict } from './lib/push-goals.js';
import { hasTaskset, pushesSince, sleep, startPushMesh, statesSince, wall, type PushMesh } from './lib/push-mesh.js';
import { cpuSeconds, rssMiB } from './proxy/procs.js';
import { inclusiveTable, topSelf } from './proxy/profile-summary.js';
import { outboundClusterName } from '../src/controlplane/translate/names.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const mesh: MeshSize = { namespaces: num('BENCH_NAMESPACES', 4), services: num('BENCH_SERVICES', 1000), endpointsPerService: num('BENCH_ENDPOINTS_PER_SERVICE', 10) };
const proxies = num('BENCH_PROXIES', 1000);
const modes = (process.env.BENCH_MODES ?? 'sotw,delta').split(',') as ('sotw' | 'delta')[];
const rate = num('BENCH_CHURN_RATE', 100);
const seconds = num('BENCH_CHURN_SECONDS', 60);
const waitMs = num('BENCH_WAIT_MS', 120_000);
const profileDir = process.env.BENCH_CPU_PROF;
const nsOf = (s: number) => `ns-${s % mesh.namespaces}`;
/** The largest value, NaN for none (a run where nothing converged or nothing was pushed). */
const maxOf = (values: readonly number[]) => (values.length ? Math.max(...values) : NaN);
const defaultCluster = (s: number, port: number) => outboundClusterName(port, undefined, `svc-${s}.${nsOf(s)}.svc.cluster.local`);

interface ChurnRun {
  mode: 'sotw' | 'delta';
  connectMs: number;
  /** Changes written, and the seconds from the first to the last (the rate the writer achieved). */
  changes: number;
  writeSeconds: number;
  converged: { p50: number; max: number; pending: number };
  cpuSeconds: number;
  /** The simulated proxies' process over the same window: near one core, they were a limit of the benchmark. */
  clientsCpuSeconds: number;
  /** Wall seconds from the first change until the last proxy converged (or gave up): CPU's denominator. */
  wallSeconds: number;
  peakRssMiB: number;
  pushes: { count: number; p50Ms: number; maxMs: number; responses: number; byTrigger: Record<string, number> };
  sourceStates: number;
  /** From the last change to the source's last state and to the end of the last push (the log's ms clock). */
  lastChangeTo: { state: number; pushed: number };
  types: Record<string, number>;
  note?: string;
}

/** Everything but the EndpointSlices in mesh.yaml; each service's slice in endpoints/svc-N.yaml, as the plan starts it. */
async function writeMesh(dir: string, plan: ChurnPlan): Promise<void> {
  await writeFile(join(dir, 'mesh.yaml'), syntheticMesh(mesh).filter((o) => o.kind !== 'EndpointSlice').map((o) => stringify(o)).join('---\n'));
  await mkdir(join(dir, 'endpoints'));
  for (let s = 0; s < mesh.services; s++) await writeSlice(dir, s, plan);
}

/** Written beside and renamed over (a dot-file the source skips): the source never reads half a slice. */
async function writeSlice(dir: string, s: number, plan: ChurnPlan): Promise<void> {
  const tmp = join(dir, 'endpoints', `.svc-${s}.yaml`);
  await writeFile(tmp, stringify(endpointSliceOf(s, nsOf(s), plan.endpoints(s))));
  await rename(tmp, join(dir, 'endpoints', `svc-${s}.yaml`));
}

/** The control plane's RSS, sampled until stopped; returns the peak in MiB. */
function sampleRss(pid: number): () => number {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // The control plane is gone: the run fails where it waits for it, not here.
    }
  }, 100);
  return () => (clearInterval(timer), Math.round(peak));
}

/** The churn on schedule: change i is due i / rate s after the first; returns the last change's time (epoch ms). */
async function churn(dir: string, plan: ChurnPlan, total: number): Promise<{ first: number; last: number }> {
  const first = wall();
  for (let i = 0; i < total; i++) {
    const due = first + (i * 1000) / rate;
    if (wall() < due) await sleep(due - wall());
    await writeSlice(dir, plan.next(i === total - 1).service, plan);
  }
  return { first, last: wall() };
}

async function measure(m: PushMesh, dir: string, plan: ChurnPlan, mode: 'sotw' | 'delta', connectMs: number): Promise<ChurnRun> {
  const { cp, clients } = m;
  const pid = cp.child.pid!;
  clients.send({ report: 0 });
  await clients.waitLine((j) => j.report === 0, waitMs, 'responses reset');
  if (profileDir) cp.child.kill('SIGUSR2');
  const logFrom = cp.stderr.length;
  const cpu0 = cpuSeconds(pid);
  const clientsCpu0 = cpuSeconds(clients.child.pid!);
  const peak = sampleRss(pid);
  const total = Math.max(1, Math.round(rate * seconds));
  const { first, last } = await churn(dir, plan, total);
  clients.send({ converge: 1, from: last, expect: plan.expected(defaultCluster), ms: waitMs });
  const done = await clients.waitLine((j) => j.converge === 1, waitMs + 10_000, 'convergence');
  const wallSeconds = (wall() - first) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const clientsCpu = cpuSeconds(clients.child.pid!) - clientsCpu0;
  const peakRssMiB = peak();
  if (profileDir) cp.child.kill('SIGPWR');
  // Responses of the last push may still be in flight to the other proxies' sockets: count them too.
  await sleep(500);
  clients.send({ report: 1 });
  const types = (await clients.waitLine((j) => j.report === 1, waitMs, 'report')).types as Record<string, number>;
  const times = done.times as unknown as number[];
  const pushes = pushesSince(cp, logFrom);
  const states = statesSince(cp, logFrom);
  return {
    mode,
    connectMs,
    changes: total,
    writeSeconds: (last - first) / 1000,
    converged: { p50: Math.round(median(times)), max: Math.round(maxOf(times)), pending: done.pending as number },
    cpuSeconds: cpu,
    clientsCpuSeconds: clientsCpu,
    wallSeconds,
    peakRssMiB,
    pushes: {
      count: pushes.length,
      p50Ms: median(pushes.map((p) => p.ms)),
      maxMs: maxOf(pushes.map((p) => p.ms)),
      responses: pushes.reduce((s, p) => s + p.responses, 0),
      byTrigger: pushes.reduce<Record<string, number>>((by, p) => ({ ...by, [p.trigger]: (by[p.trigger] ?? 0) + 1 }), {}),
    },
    sourceStates: states.length,
    lastChangeTo: { state: Math.round(maxOf(states) - last), pushed: Math.round(maxOf(pushes.map((p) => p.at)) - last) },
    types,
  };
}

async function runOne(mode: 'sotw' | 'delta'): Promise<{ run?: ChurnRun; note?: string; profile?: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-bench-churn-'));
  const profile = profileDir && join(profileDir, `churn-${mode}.cpuprofile`);
  let started: PushMesh | undefined;
  try {
    const plan = new ChurnPlan(mesh.services, mesh.endpointsPerService);
    await writeMesh(dir, plan);
    if (profileDir) await mkdir(profileDir, { recursive: true });
    const preload = fileURLToPath(new URL('./lib/cpu-profile-preload.js', import.meta.url));
    const env = profile ? { NODE_OPTIONS: `--import ${preload}`, TRELLIS_CPU_PROFILE: profile } : {};
    const hold = '^outbound\\|\\d+\\|\\|svc-\\d+\\.';
    const m = (started = await startPushMesh({ dir, proxies, mode, namespaces: mesh.namespaces, waitMs, hold, env }));
    if ('note' in m.connect) return { note: `${mode}: ${m.connect.note}; churn not run` };
    await sleep(1000);
    const run = await measure(m, dir, plan, mode, m.connect.ms);
    return { run, ...(profile ? { profile: await summarise(profile) } : {}) };
  } finally {
    await started?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where the control plane's CPU went from the first change until the last proxy converged. */
async function summarise(file: string): Promise<string> {
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  if (!existsSync(file)) return `(no profile written to ${file})`;
  // Matched against "functionName url" of every frame of a sample's stack.
  const patterns: Record<string, RegExp> = {
    "Node's recursive fs.watch (JS on Linux: readdirSync, statSync per event)": / node:internal\/fs\/recursive_watch$/,
    'directory source: fs.watch events (one plain watch per directory)': /^#onFsEvent /,
    'directory source: full rescan (stat every file, re-read changed)': /^(#scanAll|scanTree|scanConfigFiles|scanDir) /,
    'directory source: events handled (stat the named files, re-read changed)': /^(#applyEvents|#applyPath|#rescanUnder) /,
    'directory source: re-read + parse a file (async: not under the above)': /^(reload|#reload) /,
    'directory source: deliver (merge all files, compare)': /^#deliver /,
    '  of which mergeFiles': /^mergeFiles /,
    '  of which the comparison with the last state (before: JSON of the whole state)': /^(sameMerged|fingerprintOf) /,
    'state listener: configEvents (diff of the whole state)': /^configEvents /,
    'push: model + translation + responses (#push)': /^#push /,
    '  of which the model and generator (#translate: full, or endpoint-only)': /^#translate /,
    '  of which ADS push (generate, encode, queue)': /^push .*bundle/,
    'GC': /^\(garbage collector\) /,
    'idle': /^\(idle\) /,
  };
  return `Control plane CPU profile (${file}), first change → all converged:\n\n${inclusiveTable(file, patterns)}\n\n${topSelf(file, 15)}`;
}

function rowsOf(r: ChurnRun): (string | number)[][] {
  const row = (what: string, measured: string | number, goal = 'recorded', met = '—') => [proxies, r.mode, what, measured, goal, met];
  const converged = r.converged.pending === 0 ? verdict('churnConverged', r.converged.max) : 'NOT met';
  const pending = r.converged.pending ? `; ${r.converged.pending} of ${proxies} not converged after ${waitMs / 1000} s` : '';
  return [
    row(`changes written (${rate}/s for ${seconds} s asked)`, `${r.changes} in ${r.writeSeconds.toFixed(1)} s`),
    row(goals.churnConverged.what, `${r.converged.p50} / ${r.converged.max}${pending}`, goals.churnConverged.goal, converged),
    row('control-plane CPU, first change → all converged (s; % of one core)', `${r.cpuSeconds.toFixed(1)} in ${r.wallSeconds.toFixed(1)} s; ${((100 * r.cpuSeconds) / r.wallSeconds).toFixed(0)} %`),
    row('simulated proxies\' process CPU, same window (s; % of one core)', `${r.clientsCpuSeconds.toFixed(1)}; ${((100 * r.clientsCpuSeconds) / r.wallSeconds).toFixed(0)} %`),
    row('control-plane peak RSS during the churn (MiB, VmRSS every 100 ms)', r.peakRssMiB),
    row('pushes (count by trigger; ms p50 / max; responses)', `${r.pushes.count} (${Object.entries(r.pushes.byTrigger).map(([t, n]) => `${t || '?'} ${n}`).join(', ')}); ${r.pushes.p50Ms} / ${r.pushes.maxMs}; ${r.pushes.responses}`),
    row('config states the directory source delivered', r.sourceStates),
    row('last change → the source\'s last state / the last push logged (ms)', `${r.lastChangeTo.state} / ${r.lastChangeTo.pushed}`),
    row('responses received, by type (all proxies)', typesText(r.types)),
    row('N proxies connect at once → all SYNCED (ms)', r.connectMs),
  ];
}

const loadBefore = uptime();
const results = [];
for (const mode of modes) results.push(await runOne(mode));
const loadAfter = uptime();
const runs = results.flatMap((r) => (r.run ? [r.run] : []));
const table = formatTable(['proxies', 'stream', 'scenario', 'measured', 'goal', 'verdict'], runs.flatMap(rowsOf));
const note = [
  `Mesh: ${mesh.services} services (2 ports, 2 subsets each), ${mesh.services * mesh.endpointsPerService} endpoints at the start in ${mesh.namespaces} namespaces; every proxy sees every service.`,
  `Churn: each change rewrites one random service's EndpointSlice file (add a pod with a new address, remove one, or flip one's readiness; at least 1 and at most ${2 * mesh.endpointsPerService} endpoints), written beside and renamed over; the last change is an addition.`,
  `Converged: a proxy holds exactly the final ready endpoints in every service's two default clusters (${mesh.services * 2} load assignments checked per proxy), timed from the last change's rename to the response that completed it (the proxy ACKs as it receives).`,
  ...results.flatMap((r) => (r.note ? [r.note] : [])),
  `Cores pinned: ${hasTaskset ? 'control plane on 0, clients on 1, the writer unpinned' : 'no (taskset missing)'}.`,
  `Load before: ${loadBefore}`,
  `Load after:  ${loadAfter}`,
].join('\n');
const profiles = results.flatMap((r) => (r.profile ? [r.profile] : [])).join('\n\n');
console.log(table + '\n\n' + note + (profiles ? '\n\n' + profiles : ''));
const scale = `${mesh.services}svc-${proxies}px-${rate}x${seconds}s`;
console.log('saved', saveResults(`push-churn-${scale}`, table + '\n\n' + note + (profiles ? '\n\n' + profiles : ''), { mesh, proxies, rate, seconds, runs }));
