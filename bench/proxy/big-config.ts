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
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { TrellisProcess, jsonLine } from '../../test/helpers/trellis-process.js';
import { freePort } from '../../test/helpers/ports.js';
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

function status(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await request(`http://127.0.0.1:${port}${path}`);
  return { status: r.statusCode, body: await r.body.text() };
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
    const adminPort = await freePort();
    const t0 = performance.now();
    proxy = new TrellisProcess(
      ['proxy', '--xds-address', ready.xds, '--node-id', 'sidecar~10.255.0.1~bench-0.ns-0~ns-0.svc.cluster.local', '--admin-port', String(adminPort), '--drain-seconds', '0'],
      { ISTIO_META_NAMESPACE: 'ns-0', ISTIO_META_WORKLOAD_NAME: 'bench', TRELLIS_LOG: 'warn' },
    );
    let readyMs = NaN;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(5)) {
      const r = await get(adminPort, '/ready').catch(() => undefined);
      if (r?.status === 200) {
        readyMs = performance.now() - t0;
        break;
      }
    }
    if (Number.isNaN(readyMs)) throw new Error(`proxy not ready: ${proxy.stderr.join('\n')}`);
    // Every service's clusters: 2 ports × (the service + 2 subsets).
    let clusters = 0;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && clusters < services * 6; await sleep(200)) {
      clusters = (JSON.parse((await get(adminPort, '/clusters?format=json')).body) as { cluster_statuses?: unknown[] }).cluster_statuses?.length ?? 0;
    }
    await sleep(SETTLE_S * 1000);
    const pid = proxy.child.pid!;
    const mem = JSON.parse((await get(adminPort, '/memory')).body) as { heap_size: string; pageheap_free: string };
    const heapTotalMiB = Number(mem.heap_size) / 2 ** 20;
    return {
      services, endpoints, clusters, readyMs, rssMiB: status(pid, 'VmRSS'), rssAnonMiB: status(pid, 'RssAnon'),
      heapUsedMiB: heapTotalMiB - Number(mem.pageheap_free) / 2 ** 20, heapTotalMiB,
    };
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
