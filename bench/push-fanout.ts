/**
 * Push fan-out: N simulated sidecars (100, 1,000) connected over real gRPC to
 * the real `trellis controlplane`; one VirtualService edit → the time until
 * every proxy has received (and ACKed) the new routes, then /debug/syncz is
 * checked to show them all SYNCED. Control plane and clients run in separate
 * processes, pinned to separate cores when `taskset` is available.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { splitVirtualService, syntheticMesh } from './lib/synthetic-mesh.js';
import { formatTable, saveResults } from './lib/machine.js';
import { jsonLine, TrellisProcess } from '../test/helpers/trellis-process.js';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const sizes = (process.env.BENCH_PROXIES ?? '100,1000').split(',').map(Number);
const modes = (process.env.BENCH_MODES ?? 'sotw,delta').split(',') as ('sotw' | 'delta')[];
const rounds = Number(process.env.BENCH_ROUNDS ?? '5');
const mesh = { namespaces: 4, services: 40, endpointsPerService: 5 };
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const wall = () => performance.timeOrigin + performance.now();

interface Row {
  proxies: number;
  mode: string;
  connectAndSyncMs: number;
  pushP50Ms: number;
  pushMaxMs: number;
  firstProxyMs: number;
  allSyncedInSyncz: boolean;
}

async function runOne(n: number, mode: 'sotw' | 'delta'): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-bench-push-'));
  const objects = syntheticMesh(mesh).filter((o) => !(o.kind === 'VirtualService' && o.metadata.name === 'svc-0'));
  await writeFile(join(dir, 'mesh.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  const vsFile = join(dir, 'edited-vs.yaml');
  await writeFile(vsFile, stringify(splitVirtualService('svc-0', 'ns-0', 90)));

  const cp = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0'], { TRELLIS_LOG: 'warn' });
  const ready = jsonLine<{ xds: string; debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
  if (hasTaskset && cp.child.pid) spawnSync('taskset', ['-pc', '0', String(cp.child.pid)]);

  const script = fileURLToPath(new URL('./push-clients.js', import.meta.url));
  const args = [script, ready.xds, String(n), mode, String(mesh.namespaces)];
  const clients = hasTaskset ? spawn('taskset', ['-c', '1', process.execPath, ...args]) : spawn(process.execPath, args);
  const lines: Record<string, number>[] = [];
  let notify: () => void = () => undefined;
  createInterface({ input: clients.stdout! }).on('line', (l) => {
    const j = jsonLine<Record<string, number>>(l);
    if (j) lines.push(j), notify();
  });
  const waitLine = (pred: (j: Record<string, number>) => boolean, ms: number) =>
    new Promise<Record<string, number>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for clients (${n}, ${mode})`)), ms);
      notify = () => {
        const hit = lines.find(pred);
        if (hit) clearTimeout(timer), resolve(hit);
      };
      notify();
    });

  try {
    const t0 = wall();
    const synced = await waitLine((j) => j.synced === n, 120_000);
    const connectAndSyncMs = synced.at! - t0;
    await new Promise((r) => setTimeout(r, 1000));
    const pushes: number[] = [];
    const firsts: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const editedAt = wall();
      await writeFile(vsFile, stringify(splitVirtualService('svc-0', 'ns-0', r % 2 === 1 ? 10 : 90)));
      const done = await waitLine((j) => j.round === r, 30_000);
      pushes.push(done.last! - editedAt);
      firsts.push(done.first! - editedAt);
      await new Promise((res) => setTimeout(res, 500));
    }
    const syncz = (await (await fetch(`http://${ready.debug}/debug/syncz`)).json()) as { types: Record<string, { status: string }> }[];
    const allSynced = syncz.length >= n && syncz.every((p) => Object.values(p.types).every((t) => t.status === 'SYNCED' || t.status === 'NOT SENT'));
    pushes.sort((a, b) => a - b);
    return {
      proxies: n,
      mode,
      connectAndSyncMs: Math.round(connectAndSyncMs),
      pushP50Ms: Math.round(pushes[Math.floor(pushes.length / 2)]!),
      pushMaxMs: Math.round(pushes.at(-1)!),
      firstProxyMs: Math.round(firsts.sort((a, b) => a - b)[Math.floor(firsts.length / 2)]!),
      allSyncedInSyncz: allSynced,
    };
  } finally {
    clients.kill('SIGTERM');
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const n of sizes) for (const mode of modes) rows.push(await runOne(n, mode));
const table = formatTable(
  ['proxies', 'stream', 'connect+sync (ms)', 'edit→all ACKed p50 (ms)', 'max (ms)', 'edit→first proxy (ms)', 'syncz all SYNCED'],
  rows.map((r) => [r.proxies, r.mode, r.connectAndSyncMs, r.pushP50Ms, r.pushMaxMs, r.firstProxyMs, r.allSyncedInSyncz ? 'yes' : 'NO']),
);
const note = `Mesh: ${mesh.services} services, ${mesh.services * mesh.endpointsPerService} endpoints in ${mesh.namespaces} namespaces; ${rounds} edits per row; includes file-watch latency and the 100 ms debounce. Cores pinned: ${hasTaskset ? 'control plane on 0, clients on 1' : 'no (taskset missing)'}. Goal: 1,000 proxies SYNCED ≤ 1 s.`;
console.log(table + '\n\n' + note);
console.log('saved', saveResults('push-fanout', table + '\n\n' + note, rows));
