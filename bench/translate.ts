/**
 * Translation: 1,000 services / 10,000 endpoints, full recompute — build the
 * service model, then every resource type for 1,000 sidecars in 10
 * namespaces — timed over several runs, with heap use. Run with --expose-gc.
 */
import { loadavg } from 'node:os';
import { benchNodes, fullTranslation, stateOf } from './lib/full-translation.js';
import { syntheticMesh } from './lib/synthetic-mesh.js';
import { formatTable, saveResults } from './lib/machine.js';

const gc = (globalThis as { gc?: () => void }).gc;
const runs = Number(process.env.BENCH_RUNS ?? '5');
const sizes = [
  { namespaces: 10, services: 100, endpointsPerService: 10 },
  { namespaces: 10, services: 1000, endpointsPerService: 10 },
];
const proxies = Number(process.env.BENCH_PROXIES ?? '1000');

const rows: (string | number)[][] = [];
const data: unknown[] = [];
for (const size of sizes) {
  const state = stateOf(syntheticMesh(size));
  const nodes = benchNodes(proxies, size.namespaces);
  const model_ms: number[] = [];
  const gen_ms: number[] = [];
  const gen_cpu: number[] = [];
  let heapMiB = 0;
  let resources = 0;
  for (let r = 0; r < runs; r++) {
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const run = fullTranslation(state, nodes);
    resources = run.resources;
    model_ms.push(run.modelMs);
    gen_ms.push(run.translateMs);
    gen_cpu.push(run.translateCpuMs);
    heapMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const row = {
    services: size.services,
    endpoints: size.services * size.endpointsPerService,
    proxies,
    modelMs: +med(model_ms).toFixed(1),
    allProxiesMs: +med(gen_ms).toFixed(1),
    allProxiesCpuMs: +med(gen_cpu).toFixed(1),
    resourcesPerProxy: Math.round(resources / proxies),
    heapDeltaMiB: +heapMiB.toFixed(1),
  };
  data.push(row);
  rows.push([row.services, row.endpoints, row.proxies, row.modelMs, row.allProxiesMs, row.allProxiesCpuMs, row.resourcesPerProxy, row.heapDeltaMiB]);
}

const table = formatTable(
  ['services', 'endpoints', 'proxies', 'model build (ms)', 'all proxies, all types (ms)', 'same, CPU (ms)', 'resources/proxy', 'heap Δ (MiB)'],
  rows,
);
// CPU time includes V8's GC helper threads; next to wall time it shows whether other processes were competing.
const note = `Median of ${runs} runs; each run is a full recompute (no caches carried over). Node ${process.version}. ` +
  `Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`;
console.log(table + '\n\n' + note);
console.log('saved', saveResults('translate', table + '\n\n' + note, data));
