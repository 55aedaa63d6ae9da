/**
 * Translation: 1,000 services / 10,000 endpoints, full recompute — build the
 * service model, then every resource type for 1,000 sidecars in 10
 * namespaces — timed over several runs, with heap use. Run with --expose-gc.
 */
import { loadavg } from 'node:os';
import { objectKey, type AnyObject } from '../src/config/objects.js';
import type { ConfigState } from '../src/controlplane/sources/source.js';
import { buildModel } from '../src/controlplane/registry/build-model.js';
import { createGenerator } from '../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../src/controlplane/translate/routes/index.js';
import { parseNodeId } from '../src/xds/parse-node.js';
import { pushOrder } from '../src/xds/type-urls.js';
import { syntheticMesh } from './lib/synthetic-mesh.js';
import { formatTable, saveResults } from './lib/machine.js';

const gc = (globalThis as { gc?: () => void }).gc;
const runs = Number(process.env.BENCH_RUNS ?? '5');
const sizes = [
  { namespaces: 10, services: 100, endpointsPerService: 10 },
  { namespaces: 10, services: 1000, endpointsPerService: 10 },
];
const proxies = Number(process.env.BENCH_PROXIES ?? '1000');

function stateOf(objects: AnyObject[]): ConfigState {
  return { objects: new Map(objects.map((o) => [objectKey(o), o])), problems: [], revision: 1 };
}

const rows: (string | number)[][] = [];
const data: unknown[] = [];
for (const size of sizes) {
  const state = stateOf(syntheticMesh(size));
  const nodes = Array.from({ length: proxies }, (_, i) => {
    const ns = `ns-${i % size.namespaces}`;
    return parseNodeId(`sidecar~10.200.${Math.floor(i / 250)}.${(i % 250) + 1}~client-${i}.${ns}~${ns}.svc.cluster.local`);
  });
  const model_ms: number[] = [];
  const gen_ms: number[] = [];
  const gen_cpu: number[] = [];
  let heapMiB = 0;
  let resources = 0;
  for (let r = 0; r < runs; r++) {
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const model = buildModel(state, { domainSuffix: 'cluster.local', trustDomain: 'cluster.local' });
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const gen = createGenerator(model, routeBuilders);
    resources = 0;
    for (const node of nodes) {
      for (const type of pushOrder) resources += gen.generate(node, type, undefinedOrNames(gen, node, type)).size;
    }
    const t2 = performance.now();
    const cpu = process.cpuUsage(c1);
    model_ms.push(t1 - t0);
    gen_ms.push(t2 - t1);
    gen_cpu.push((cpu.user + cpu.system) / 1000);
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

/** Envoy asks for routes and endpoints by name: the names its listeners and clusters reference. */
function undefinedOrNames(gen: ReturnType<typeof createGenerator>, node: ReturnType<typeof parseNodeId>, type: string) {
  if (type === pushOrder[0] || type === pushOrder[2] || type === pushOrder[4]) return undefined;
  return gen.referencedNames(node, type as (typeof pushOrder)[number]);
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
