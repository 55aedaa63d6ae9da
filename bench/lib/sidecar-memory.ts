/**
 * One real `trellis proxy` as a sidecar of the real control plane, for the
 * memory benchmarks: started with a node id in ns-0 (no capture: the
 * synthetic mesh's addresses are data), measured from /proc and its admin.
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { TrellisProcess } from '../../test/helpers/trellis-process.js';
import { freePort } from '../../test/helpers/ports.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function adminGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await request(`http://127.0.0.1:${port}${path}`);
  return { status: r.statusCode, body: await r.body.text() };
}

/** A field of /proc/PID/status in MiB (VmRSS, RssAnon). */
export function procStatusMiB(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface Sidecar {
  proxy: TrellisProcess;
  adminPort: number;
  /** Spawn → /ready. */
  readyMs: number;
}

/** Starts the proxy and waits for /ready (all its first config applied). `meta`: more ISTIO_META_* variables. */
export async function startSidecar(xds: string, meta: Record<string, string> = {}, timeoutMs = 60_000): Promise<Sidecar> {
  const adminPort = await freePort();
  const t0 = performance.now();
  const proxy = new TrellisProcess(
    ['proxy', '--xds-address', xds, '--node-id', 'sidecar~10.255.0.1~bench-0.ns-0~ns-0.svc.cluster.local', '--admin-port', String(adminPort), '--drain-seconds', '0'],
    { ISTIO_META_NAMESPACE: 'ns-0', ISTIO_META_WORKLOAD_NAME: 'bench', TRELLIS_LOG: 'warn', ...Object.fromEntries(Object.entries(meta).map(([k, v]) => [`ISTIO_META_${k}`, v])) },
  );
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(5)) {
    const r = await adminGet(adminPort, '/ready').catch(() => undefined);
    if (r?.status === 200) return { proxy, adminPort, readyMs: performance.now() - t0 };
  }
  await proxy.stop();
  throw new Error(`proxy not ready: ${proxy.stderr.join('\n')}`);
}

/** How many clusters the proxy holds (its admin's /clusters). */
export async function clustersHeld(adminPort: number): Promise<number> {
  return (JSON.parse((await adminGet(adminPort, '/clusters?format=json')).body) as { cluster_statuses?: unknown[] }).cluster_statuses?.length ?? 0;
}

/** Polls clustersHeld until it reaches `atLeast` or the time is up; returns the last count. */
export async function waitForClusters(adminPort: number, atLeast: number, timeoutMs = 60_000): Promise<number> {
  let n = 0;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && n < atLeast; await sleep(200)) n = await clustersHeld(adminPort);
  return n;
}

export interface SidecarMemory {
  rssMiB: number;
  rssAnonMiB: number;
  /** V8's heap: in use, and reserved (the admin's /memory). */
  heapUsedMiB: number;
  heapTotalMiB: number;
}

export async function sidecarMemory(s: Sidecar): Promise<SidecarMemory> {
  const pid = s.proxy.child.pid!;
  const mem = JSON.parse((await adminGet(s.adminPort, '/memory')).body) as { heap_size: string; pageheap_free: string };
  const heapTotalMiB = Number(mem.heap_size) / 2 ** 20;
  return { rssMiB: procStatusMiB(pid, 'VmRSS'), rssAnonMiB: procStatusMiB(pid, 'RssAnon'), heapUsedMiB: heapTotalMiB - Number(mem.pageheap_free) / 2 ** 20, heapTotalMiB };
}
