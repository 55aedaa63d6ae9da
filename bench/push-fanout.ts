/**
 * The control plane at scale (issue 16): N simulated sidecars (real gRPC, one
 * connection each, Envoy's LDS → RDS and CDS → EDS walk) against the real
 * `trellis controlplane` on a synthetic mesh of BENCH_SERVICES services with
 * BENCH_ENDPOINTS_PER_SERVICE endpoints each. Measures, per proxies × stream:
 * all proxies connecting at once → all SYNCED; a VirtualService edit → all
 * ACKed; one endpoint added or removed → all affected proxies ACKed, which
 * types were sent, and the control plane's rebuild time; the full
 * translation in-process; the control plane's peak RSS. One table, each
 * scenario beside the goal, met or NOT met, saved to bench/results/
 * with the machine and its load. Control plane and clients run in separate
 * processes, pinned to separate cores when `taskset` is available.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { endpointSlice, splitVirtualService, syntheticMesh, type MeshSize } from './lib/synthetic-mesh.js';
import { formatTable, saveResults, uptime } from './lib/machine.js';
import { benchNodes, fullTranslation, stateOf } from './lib/full-translation.js';
import type { ClientsProcess } from './lib/clients-process.js';
import { goals, median, onlyEdsVerdict, typesText, verdict, type Scenario } from './lib/push-goals.js';
import { hasTaskset, peakRssMiB, pushesSince, sleep, startPushMesh, wall, type PushMesh } from './lib/push-mesh.js';
import { TypeUrl } from '../src/xds/type-urls.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const mesh: MeshSize = { namespaces: num('BENCH_NAMESPACES', 4), services: num('BENCH_SERVICES', 40), endpointsPerService: num('BENCH_ENDPOINTS_PER_SERVICE', 5) };
const sizes = (process.env.BENCH_PROXIES ?? '100,1000').split(',').map(Number);
const modes = (process.env.BENCH_MODES ?? 'sotw,delta').split(',') as ('sotw' | 'delta')[];
const rounds = num('BENCH_ROUNDS', 5);
const onDemand = num('BENCH_ON_DEMAND', 0);
const waitMs = num('BENCH_WAIT_MS', 120_000);
/** svc-0's VirtualService is edited, svc-1's EndpointSlice gains and loses an endpoint: each in a file of its own. */
const edited = { vs: 'svc-0', endpoints: 'svc-1' };

interface Run {
  proxies: number;
  mode: 'sotw' | 'delta';
  connectMs: number;
  vsEdit: { p50: number; max: number; firstP50: number };
  endpoint: { p50: number; max: number; firstP50: number; types: Record<string, number>; cpPushMs: number; cpTranslationMs: number };
  fullTranslateMs: number;
  peakRssMiB: number;
  allSyncedInSyncz: boolean;
  /** Set when not every proxy got SYNCED in time (then nothing else was measured). */
  connectNote?: string;
}

function unfinished(proxies: number, mode: 'sotw' | 'delta', fullTranslateMs: number): Run {
  const none = { p50: NaN, max: NaN, firstP50: NaN };
  return { proxies, mode, connectMs: NaN, vsEdit: none, endpoint: { ...none, types: {}, cpPushMs: NaN, cpTranslationMs: NaN }, fullTranslateMs, peakRssMiB: NaN, allSyncedInSyncz: false };
}

async function writeMesh(dir: string): Promise<{ vsFile: string; epFile: string }> {
  const objects = syntheticMesh(mesh).filter(
    (o) => !(o.kind === 'VirtualService' && o.metadata.name === edited.vs) && !(o.kind === 'EndpointSlice' && o.metadata.name === `${edited.endpoints}-abc`),
  );
  await writeFile(join(dir, 'mesh.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  const vsFile = join(dir, 'edited-vs.yaml');
  const epFile = join(dir, 'edited-endpoints.yaml');
  await writeFile(vsFile, stringify(splitVirtualService(edited.vs, 'ns-0', 90)));
  await writeEndpoints(epFile, mesh.endpointsPerService);
  return { vsFile, epFile };
}

function writeEndpoints(file: string, count: number): Promise<void> {
  return writeFile(file, stringify(endpointSlice(1, `ns-${1 % mesh.namespaces}`, count, mesh.endpointsPerService)));
}

/** `rounds` changes, each awaited until every proxy has a new version of `type`; returns the times from each write. */
async function changeRounds(clients: ClientsProcess, type: string, change: (round: number) => Promise<void>, after?: (round: number) => Promise<void>) {
  const all: number[] = [];
  const firsts: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const id = Math.random();
    clients.send({ mark: id, type });
    const at = wall();
    await change(r);
    const done = await clients.waitLine((j) => j.mark === id, waitMs, `every proxy gets new ${type}`);
    all.push((done.last as number) - at);
    firsts.push((done.first as number) - at);
    await after?.(r);
    await sleep(300);
  }
  return { p50: Math.round(median(all)), max: Math.round(Math.max(...all)), firstP50: Math.round(median(firsts)) };
}

async function runOne(n: number, mode: 'sotw' | 'delta', fullTranslateMs: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-bench-push-'));
  let started: PushMesh | undefined;
  try {
    const { vsFile, epFile } = await writeMesh(dir);
    const m = (started = await startPushMesh({ dir, proxies: n, mode, namespaces: mesh.namespaces, waitMs }));
    const { cp, clients } = m;
    if ('note' in m.connect) return { ...unfinished(n, mode, fullTranslateMs), connectNote: m.connect.note, peakRssMiB: await peakRssMiB(cp.child.pid!) };
    const connectMs = m.connect.ms;
    await sleep(1000);

    const vsEdit = await changeRounds(clients, TypeUrl.RouteConfiguration, (r) => writeFile(vsFile, stringify(splitVirtualService(edited.vs, 'ns-0', r % 2 === 1 ? 10 : 90))));
    const types: Record<string, number> = {};
    const cpMs: number[] = [];
    const cpTranslationMs: number[] = [];
    let logFrom = 0;
    const endpoint = await changeRounds(
      clients,
      TypeUrl.ClusterLoadAssignment,
      (r) => ((logFrom = cp.stderr.length), writeEndpoints(epFile, mesh.endpointsPerService + (r % 2))),
      async (r) => {
        // Whatever else this change sends follows EDS within the same push: give it time to arrive, then count.
        await sleep(500);
        clients.send({ report: r });
        const rep = await clients.waitLine((j) => j.report === r, waitMs, 'report');
        for (const [t, c] of Object.entries(rep.types as Record<string, number>)) types[t] = (types[t] ?? 0) + c;
        for (const p of pushesSince(cp, logFrom)) {
          cpMs.push(p.ms);
          cpTranslationMs.push(p.translationMs);
        }
      },
    );
    const syncz = (await (await fetch(`http://${m.debug}/debug/syncz`)).json()) as { types: Record<string, { status: string }> }[];
    const allSynced = syncz.length >= n && syncz.every((p) => Object.values(p.types).every((t) => t.status === 'SYNCED' || t.status === 'NOT SENT'));
    return {
      proxies: n,
      mode,
      connectMs,
      vsEdit,
      endpoint: { ...endpoint, types, cpPushMs: Math.round(median(cpMs) * 10) / 10, cpTranslationMs: Math.round(median(cpTranslationMs) * 10) / 10 },
      fullTranslateMs,
      peakRssMiB: await peakRssMiB(cp.child.pid!),
      allSyncedInSyncz: allSynced,
    };
  } finally {
    await started?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function rowsOf(r: Run): (string | number)[][] {
  const row = (s: Scenario, measured: string | number, met: string) => [r.proxies, r.mode, goals[s].what, measured, goals[s].goal, met];
  if (r.connectNote) return [row('connect', r.connectNote, 'NOT met'), row('fullTranslate', r.fullTranslateMs, verdict('fullTranslate', r.fullTranslateMs)), row('peakRss', r.peakRssMiB, verdict('peakRss', r.peakRssMiB))];
  return [
    row('connect', r.connectMs, verdict('connect', r.connectMs)),
    row('vsEdit', `${r.vsEdit.p50} / ${r.vsEdit.max} (first proxy ${r.vsEdit.firstP50})`, verdict('vsEdit', r.vsEdit.p50)),
    row('endpointAcked', `${r.endpoint.p50} / ${r.endpoint.max} (first proxy ${r.endpoint.firstP50})`, verdict('endpointAcked', r.endpoint.p50)),
    row('endpointOnlyEds', `${typesText(r.endpoint.types)} in ${rounds} changes`, onlyEdsVerdict(r.endpoint.types)),
    row('endpointTranslate', r.endpoint.cpTranslationMs, verdict('endpointTranslate', r.endpoint.cpTranslationMs)),
    row('endpointPush', r.endpoint.cpPushMs, '—'),
    row('fullTranslate', r.fullTranslateMs, verdict('fullTranslate', r.fullTranslateMs)),
    row('peakRss', r.peakRssMiB, verdict('peakRss', r.peakRssMiB)),
  ];
}

const loadBefore = uptime();
const runs: Run[] = [];
for (const n of sizes) {
  // Before any control plane starts: nothing else of ours competes for the core.
  const nodes = benchNodes(num('BENCH_TRANSLATE_PROXIES', n), mesh.namespaces);
  const translations = Array.from({ length: num('BENCH_TRANSLATE_RUNS', 3) }, () => fullTranslation(stateOf(syntheticMesh(mesh)), nodes));
  const fullMs = Math.round(median(translations.map((t) => t.modelMs + t.translateMs)));
  for (const mode of modes) runs.push(await runOne(n, mode, fullMs));
}
const loadAfter = uptime();
const table = formatTable(['proxies', 'stream', 'scenario', 'measured', 'goal', 'verdict'], runs.flatMap(rowsOf));
const endpoints = mesh.services * mesh.endpointsPerService;
const note = [
  `Mesh: ${mesh.services} services (2 ports, 2 subsets each), ${endpoints} endpoints in ${mesh.namespaces} namespaces; every proxy sees every service, so every proxy is affected by the endpoint change.`,
  ...(onDemand > 0 ? [`On-demand clusters (BENCH_ON_DEMAND=${onDemand}): every proxy has ENABLE_ON_DEMAND_CDS and asks by name for the clusters of ${onDemand} services it calls (svc-0 and svc-1 among them, so the edit and the endpoint change reach all); the rest of the mesh's clusters and load assignments it never receives. Delta only (SotW streams ignore it).`] : []),
  `${rounds} changes per scenario and row; times from the file write, so they include the directory watch and the 100 ms debounce (the first proxy's time shows that floor).`,
  'The control plane\'s times are from its own log of each push (median of the endpoint changes): the model update and the translation for every connected proxy with the snapshot check (buildMs + translateMs + checkMs) against the goal, and the whole push, which also serialises and queues every response.',
  `All proxies SYNCED in /debug/syncz at the end: ${runs.every((r) => r.allSyncedInSyncz) ? 'yes' : 'NO'} (BENCH_WAIT_MS ${waitMs}). Cores pinned: ${hasTaskset ? 'control plane on 0, clients on 1 (the in-process translation runs before, unpinned)' : 'no (taskset missing)'}.`,
  `Endpoint churn (100 pod changes/s for 60 s): npm run bench:churn.`,
  `Load before: ${loadBefore}`,
  `Load after:  ${loadAfter} (loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')})`,
].join('\n');
console.log(table + '\n\n' + note);
console.log('saved', saveResults(`push-fanout-${mesh.services}svc${onDemand > 0 ? '-ondemand' : ''}`, table + '\n\n' + note, { mesh, runs, onDemand }));
