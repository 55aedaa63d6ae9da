/**
 * What publishing only consistent snapshots costs: prepare() (snapshot/
 * prepare.ts) on a fresh generator for N sidecars — every answer generated,
 * then the consistency check on the same answers — beside the translation
 * itself. The check reads each resource's bytes once per push (references
 * are memoised per XdsResource) and each scope's answers once (memoised on
 * the answers' identities). Run with --expose-gc.
 */
import { loadavg } from 'node:os';
import { buildModel } from '../src/controlplane/registry/build-model.js';
import { createGenerator } from '../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../src/controlplane/translate/routes/index.js';
import { prepare } from '../src/controlplane/snapshot/prepare.js';
import { benchNodes, stateOf } from './lib/full-translation.js';
import { syntheticMesh } from './lib/synthetic-mesh.js';
import { formatTable, saveResults } from './lib/machine.js';

const gc = (globalThis as { gc?: () => void }).gc;
const runs = Number(process.env.BENCH_RUNS ?? '3');
const proxies = Number(process.env.BENCH_PROXIES ?? '1000');
const services = (process.env.BENCH_SERVICES ?? '100,1000').split(',').map(Number);

const rows: (string | number)[][] = [];
const data: unknown[] = [];
for (const n of services) {
  const size = { namespaces: 10, services: n, endpointsPerService: 10 };
  const model = buildModel(stateOf(syntheticMesh(size)), { domainSuffix: 'cluster.local', trustDomain: 'cluster.local' });
  const targets = benchNodes(proxies, size.namespaces).map((node) => ({ node, types: new Map() }));
  const translate: number[] = [];
  const check: number[] = [];
  const again: number[] = [];
  let dangling = 0;
  for (let r = 0; r < runs; r++) {
    gc?.();
    const g = createGenerator(model, routeBuilders);
    const first = prepare(g, targets);
    translate.push(first.translateMs);
    check.push(first.checkMs);
    dangling = first.dangling.length;
    // The same generator again: what a second push of an unchanged snapshot would pay (all memo hits).
    again.push(prepare(g, targets).checkMs);
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const row = { services: n, proxies, translateMs: med(translate), checkMs: med(check), checkPct: +((100 * med(check)) / med(translate)).toFixed(1), checkAgainMs: med(again), dangling };
  data.push(row);
  rows.push([row.services, row.proxies, row.translateMs, row.checkMs, `${row.checkPct} %`, row.checkAgainMs, row.dangling]);
}

const table = formatTable(['services', 'proxies', 'translate all (ms)', 'consistency check (ms)', 'check / translate', 'check, memo hits (ms)', 'dangling'], rows);
const note = `Median of ${runs} runs, a fresh generator each (no caches carried over). Node ${process.version}. ` +
  `Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`;
console.log(table + '\n\n' + note);
console.log('saved', saveResults('snapshot-check', table + '\n\n' + note, data));
