/**
 * Issue 16's automatic scoping: one real `trellis proxy` (Delta) in a mesh of
 * BENCH_SERVICES (5,000) services with BENCH_ENDPOINTS_PER_SERVICE (10)
 * endpoints each and no Sidecar resource, against the real control plane —
 * once holding the whole mesh, once with on-demand clusters
 * (ISTIO_META_ENABLE_ON_DEMAND_CDS=true). Measures, side by side in one run:
 * the clusters held, spawn → /ready, the proxy's RSS, the bytes the control
 * plane sent it at connect (pilot_xds_config_size_bytes by type), and what
 * one endpoint change of a service it does not call sends it. A proxy with
 * on-demand clusters then asks for the services its app calls; their cost is
 * the per-cluster difference of the two rows. The fan-out for N proxies is
 * N times these bytes (each proxy gets its own response).
 *
 *   npm run bench:on-demand
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { endpointSlice, syntheticMesh } from './lib/synthetic-mesh.js';
import { formatTable, saveResults } from './lib/machine.js';
import { clustersHeld, sidecarMemory, startSidecar, waitForClusters } from './lib/sidecar-memory.js';
import { jsonLine, TrellisProcess } from '../test/helpers/trellis-process.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const mesh = { namespaces: num('BENCH_NAMESPACES', 10), services: num('BENCH_SERVICES', 5000), endpointsPerService: num('BENCH_ENDPOINTS_PER_SERVICE', 10) };
const settleMs = num('BENCH_SETTLE_SECONDS', 10) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** svc-1's slice gets one more endpoint: a service the proxy in ns-0 does not call. */
const changed = { name: 'svc-1', namespace: `ns-${1 % mesh.namespaces}` };

interface Row {
  mode: 'whole mesh' | 'on-demand';
  clusters: number;
  readyMs: number;
  rssMiB: number;
  rssAnonMiB: number;
  heapUsedMiB: number;
  connectBytes: Record<string, number>;
  endpointChangeBytes: Record<string, number>;
}

/** pilot_xds_config_size_bytes_sum by type, from the control plane's /metrics. */
async function sentBytes(debug: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${debug}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^pilot_xds_config_size_bytes_sum\{type="(\w+)"\} ([\d.e+]+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

const kib = (bytes: Record<string, number>) => Object.entries(bytes).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}`).join(', ') || '0';
const total = (bytes: Record<string, number>) => Object.values(bytes).reduce((a, b) => a + b, 0);

const pushedRevision = (line: string) => Number(/ pushed .*\brevision=(\d+)/.exec(line)?.[1] ?? -1);
const lastPushedRevision = (cp: TrellisProcess) => Math.max(-1, ...cp.stderr.map(pushedRevision));

async function measure(mode: Row['mode'], cp: TrellisProcess, xds: string, debug: string, epFile: string, round: number): Promise<Row> {
  const before = await sentBytes(debug);
  const sidecar = await startSidecar(xds, mode === 'on-demand' ? { ENABLE_ON_DEMAND_CDS: 'true' } : {}, 180_000);
  try {
    // The whole mesh: 2 ports × (the service + 2 subsets) per service; on demand: what /ready brought.
    const clusters = mode === 'whole mesh' ? await waitForClusters(sidecar.adminPort, mesh.services * 6, 180_000) : await clustersHeld(sidecar.adminPort);
    await sleep(1000);
    const atConnect = await sentBytes(debug);
    const revision = lastPushedRevision(cp);
    await writeFile(epFile, stringify(endpointSlice(1, changed.namespace, mesh.endpointsPerService + 1 + round, mesh.endpointsPerService + 2)));
    for (const deadline = Date.now() + 60_000; lastPushedRevision(cp) <= revision; await sleep(50)) if (Date.now() > deadline) throw new Error('the endpoint change was not pushed');
    await sleep(1000);
    const afterChange = await sentBytes(debug);
    await sleep(settleMs);
    return { mode, clusters, readyMs: sidecar.readyMs, ...(await sidecarMemory(sidecar)), connectBytes: minus(atConnect, before), endpointChangeBytes: minus(afterChange, atConnect) };
  } finally {
    await sidecar.proxy.stop();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'trellis-on-demand-'));
const cp = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0'], { TRELLIS_LOG: 'info' });
try {
  const objects = syntheticMesh(mesh).filter((o) => !(o.kind === 'EndpointSlice' && o.metadata.name === `${changed.name}-abc`));
  const epFile = join(dir, 'svc-1-endpoints.yaml');
  await writeFile(join(dir, 'mesh.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  await writeFile(epFile, stringify(endpointSlice(1, changed.namespace, mesh.endpointsPerService, mesh.endpointsPerService + 2)));
  const ready = jsonLine<{ xds: string; debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined, 180_000))!;
  const rows = [await measure('whole mesh', cp, ready.xds, ready.debug, epFile, 0), await measure('on-demand', cp, ready.xds, ready.debug, epFile, 1)];
  const table = formatTable(
    ['proxy', 'clusters held', 'spawn → /ready ms', 'RSS MiB', 'RssAnon MiB', 'V8 heap used MiB', 'sent at connect KiB', 'one endpoint change elsewhere: sent KiB'],
    rows.map((r) => [r.mode, r.clusters, r.readyMs.toFixed(0), r.rssMiB.toFixed(1), r.rssAnonMiB.toFixed(1), r.heapUsedMiB.toFixed(1), `${(total(r.connectBytes) / 1024).toFixed(0)} (${kib(r.connectBytes)})`, kib(r.endpointChangeBytes)]),
  );
  const [whole, od] = rows as [Row, Row];
  const perCluster = (whole.rssMiB - od.rssMiB) / Math.max(1, whole.clusters - od.clusters);
  const note = [
    `Mesh: ${mesh.services} services × ${mesh.endpointsPerService} endpoints in ${mesh.namespaces} namespaces, no Sidecar resource; one proxy at a time, Delta xDS; RSS after ${settleMs / 1000} s.`,
    `Fan-out for 1,000 such proxies at connect: ${(total(whole.connectBytes) * 1000 / 2 ** 30).toFixed(2)} GiB whole mesh vs ${(total(od.connectBytes) * 1000 / 2 ** 20).toFixed(1)} MiB on demand (computed: 1,000 × the bytes above).`,
    `Each cluster a proxy with on-demand clusters discovers costs about ${(perCluster * 1024).toFixed(1)} KiB of RSS (the difference of the rows per cluster).`,
    `Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
  ].join('\n');
  console.log(`${table}\n\n${note}`);
  console.log('saved', saveResults(`on-demand-${mesh.services}svc`, `${table}\n\n${note}\n`, rows));
} finally {
  await cp.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
