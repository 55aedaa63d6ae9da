/**
 * Issue 12's memory goal: the RSS of one `trellis proxy` holding the config
 * the real control plane gives a sidecar in a mesh of BIG_SERVICES (1,000)
 * services with BIG_ENDPOINTS (10) endpoints each, no Sidecar scoping — every
 * service's clusters (two ports, two subsets), endpoints, routes and
 * listeners. The mesh is bench/lib/synthetic-mesh.ts written as YAML for
 * `trellis controlplane --config-dir`; its addresses are data, nothing
 * connects to them. Reports spawn → /ready, the clusters held, and RSS (and
 * its private part, RssAnon: the node binary's own pages are RssFile and
 * shared) after BIG_SETTLE_SECONDS, beside the same proxy holding the
 * one-service bench config's size class (a mesh of 1 service).
 *
 *   node dist/bench/proxy/big-config.js
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TrellisProcess, jsonLine } from '../../test/helpers/trellis-process.js';
import { sidecarMemory, startSidecar, waitForClusters } from '../lib/sidecar-memory.js';
import { syntheticMesh } from '../lib/synthetic-mesh.js';
import { formatTable, saveResults } from '../lib/machine.js';
import { sleep } from './procs.js';

const SERVICES = Number(process.env.BIG_SERVICES ?? 1000);
const ENDPOINTS = Number(process.env.BIG_ENDPOINTS ?? 10);
const SETTLE_S = Number(process.env.BIG_SETTLE_SECONDS ?? 12);

interface Measured {
  services: number;
  endpoints: number;
  clusters: number;
  readyMs: number;
  rssMiB: number;
  rssAnonMiB: number;
  /** V8's heap: in use, and reserved (the admin's /memory). */
  heapUsedMiB: number;
  heapTotalMiB: number;
}

async function measure(services: number, endpoints: number, dir: string): Promise<Measured> {
  const config = join(dir, `mesh-${services}`);
  mkdirSync(config);
  const namespaces = Math.max(1, Math.min(10, services));
  writeFileSync(join(config, 'mesh.yaml'), syntheticMesh({ namespaces, services, endpointsPerService: endpoints }).map((o) => stringify(o)).join('---\n'));
  const cp = new TrellisProcess(['controlplane', '--config-dir', config, '--xds-port', '0', '--debug-port', '0'], { TRELLIS_LOG: 'warn' });
  let proxy: TrellisProcess | undefined;
  try {
    const ready = jsonLine<{ xds: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined, 60_000))!;
    const sidecar = await startSidecar(ready.xds);
    proxy = sidecar.proxy;
    // Every service's clusters: 2 ports × (the service + 2 subsets).
    const clusters = await waitForClusters(sidecar.adminPort, services * 6);
    await sleep(SETTLE_S * 1000);
    return { services, endpoints, clusters, readyMs: sidecar.readyMs, ...(await sidecarMemory(sidecar)) };
  } finally {
    await proxy?.stop();
    await cp.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'trellis-big-config-'));
try {
  const rows: Measured[] = [];
  rows.push(await measure(1, ENDPOINTS, dir));
  rows.push(await measure(SERVICES, ENDPOINTS, dir));
  const table = formatTable(
    ['services', 'endpoints each', 'clusters held', 'spawn → /ready ms', 'RSS MiB', 'RssAnon MiB', 'V8 heap used MiB', 'V8 heap reserved MiB'],
    rows.map((r) => [r.services, r.endpoints, r.clusters, r.readyMs.toFixed(0), r.rssMiB.toFixed(1), r.rssAnonMiB.toFixed(1), r.heapUsedMiB.toFixed(1), r.heapTotalMiB.toFixed(1)]),
  );
  const big = rows[1]!;
  const verdict = `Goal (issue 12): RSS holding a ${SERVICES}-service / ${SERVICES * ENDPOINTS}-endpoint config ≤ 120 MiB: ${big.rssMiB.toFixed(1)} MiB — ${big.rssMiB <= 120 ? 'met' : 'NOT met'}.`;
  console.log(`${table}\n\n${verdict}`);
  saveResults('proxy-big-config', `${table}\n\n${verdict}\n`, rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
