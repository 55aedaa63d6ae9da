/**
 * The systems under test, each in the same role (a reverse proxy on
 * 127.0.0.1 in front of one backend): nothing (direct), haproxy, nginx,
 * `trellis proxy` configured over ADS, and chains of two for the two-hop runs.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { FakeAdsServer } from '../../test/integration/proxy/fake-ads-server.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from '../../test/integration/proxy/xds-builders.js';
import { TypeUrl } from '../../src/xds/type-urls.js';
import { haproxyProxy, nginxBackend, nginxProxy, type HaproxyTls } from './configs.js';
import { caSecret, certSecret, withDownstreamMtls, withUpstreamMtls } from '../../test/integration/proxy/tls-builders.js';
import { spiffe, TestPki, type Pem } from '../../test/helpers/pki.js';
import { freePort, sleep, spawnPinned, waitForPort, type Spawned } from './procs.js';

const MAIN = process.env.BENCH_TRELLIS_MAIN ?? fileURLToPath(new URL('../../bundle/main.js', import.meta.url));

export interface Target {
  name: string;
  /** Where the load generator sends requests. */
  port: number;
  /** The proxy processes whose CPU and memory are measured (empty for direct). */
  pids: number[];
  /** Spawn → first config applied (/ready 200), trellis only. */
  startMs?: number;
  stop(): Promise<void>;
}

export interface BenchEnv {
  dir: string;
  /** Core for proxies and backend; undefined = not pinned. */
  core: number | undefined;
}

export async function startBackend(env: BenchEnv): Promise<{ port: number; proc: Spawned }> {
  const port = await freePort();
  const conf = `${env.dir}/nginx-backend.conf`;
  writeFileSync(conf, nginxBackend(env.dir, port));
  const proc = spawnPinned(env.core, 'nginx', ['-e', `${env.dir}/nginx-backend-error.log`, '-p', env.dir, '-c', conf]);
  await waitForPort(port).catch((e: unknown) => { throw new Error(`${String(e)}: ${proc.output()}`); });
  return { port, proc };
}

export function direct(backendPort: number): Target {
  return { name: 'direct', port: backendPort, pids: [], stop: async () => undefined };
}

export async function haproxy(env: BenchEnv, upstreamPort: number, name = 'haproxy', tls?: BenchTls): Promise<Target> {
  const port = await freePort();
  const conf = `${env.dir}/${name}.cfg`;
  let htls: HaproxyTls | undefined;
  if (tls) {
    const crtFile = `${env.dir}/${name}-crt.pem`;
    writeFileSync(crtFile, tls.pem.cert + tls.pem.key, { mode: 0o600 });
    htls = { role: tls.role, crtFile, caFile: tls.pki.ca.certFile };
  }
  writeFileSync(conf, haproxyProxy(port, upstreamPort, htls));
  const proc = spawnPinned(env.core, 'haproxy', ['-db', '-f', conf]);
  await waitForPort(port).catch((e: unknown) => { throw new Error(`${String(e)}: ${proc.output()}`); });
  return { name, port, pids: [proc.pid], stop: () => proc.stop() };
}

export async function nginx(env: BenchEnv, upstreamPort: number, name = 'nginx'): Promise<Target> {
  const port = await freePort();
  const conf = `${env.dir}/${name}.conf`;
  writeFileSync(conf, nginxProxy(env.dir, port, upstreamPort, name));
  const proc = spawnPinned(env.core, 'nginx', ['-e', `${env.dir}/${name}-error.log`, '-p', env.dir, '-c', conf]);
  await waitForPort(port).catch((e: unknown) => { throw new Error(`${String(e)}: ${proc.output()}`); });
  return { name, port, pids: [proc.pid], stop: () => proc.stop() };
}

/** One mTLS side of a two-hop chain: the first hop originates (client), the second terminates (server). */
export interface BenchTls {
  role: 'client' | 'server';
  pki: TestPki;
  pem: Pem;
}

/** A PKI and the two workload identities of the mTLS chains (real openssl), inside the bench's directory. */
export function benchPki(env: BenchEnv): { pki: TestPki; client: Pem; server: Pem } {
  const pki = new TestPki('trellis bench CA', env.dir);
  return { pki, client: pki.leaf(spiffe('default', 'bench-client')), server: pki.leaf(spiffe('default', 'bench-server')) };
}

/**
 * An in-process ADS server holding one listener → route → EDS cluster → `upstreamPort`; with `tls`, Istio's
 * mTLS on the listener (server) or the cluster (client) and the SDS secrets "default" and "ROOTCA".
 */
export async function adsFor(listenerPort: number, upstreamPort: number, tls?: BenchTls): Promise<FakeAdsServer> {
  const ads = new FakeAdsServer();
  const listener = httpListener('bench', 'bench-route', listenerPort);
  const cluster = edsCluster('backend');
  ads.set(TypeUrl.Listener, 'bench', tls?.role === 'server' ? withDownstreamMtls(listener, { sans: [spiffe('default', 'bench-client')] }) : listener);
  ads.set(TypeUrl.RouteConfiguration, 'bench-route', routeConfig('bench-route', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'backend')] }]));
  ads.set(TypeUrl.Cluster, 'backend', tls?.role === 'client' ? withUpstreamMtls(cluster, { sans: [spiffe('default', 'bench-server')] }) : cluster);
  ads.set(TypeUrl.ClusterLoadAssignment, 'backend', endpoints('backend', [upstreamPort]));
  if (tls) {
    ads.set(TypeUrl.Secret, 'default', certSecret('default', tls.pem));
    ads.set(TypeUrl.Secret, 'ROOTCA', caSecret('ROOTCA', tls.pki.ca.cert));
  }
  await ads.start();
  return ads;
}

/** BENCH_TRELLIS_NODE_FLAGS: V8/Node flags for every trellis process, for experiments (e.g. GC tuning). */
function extraNodeFlags(): string[] {
  return (process.env.BENCH_TRELLIS_NODE_FLAGS ?? '').split(' ').filter(Boolean);
}

export interface TrellisOpts {
  name?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Extra environment for the proxy process. */
  env?: NodeJS.ProcessEnv;
  tls?: BenchTls;
}

/**
 * Spawns `trellis proxy` against a fresh ADS server and waits for /ready
 * (start time measured from spawn) and for its listener to accept.
 */
export async function trellis(env: BenchEnv, upstreamPort: number, o: TrellisOpts = {}): Promise<Target & { proc: Spawned }> {
  const port = await freePort();
  const adminPort = await freePort();
  const ads = await adsFor(port, upstreamPort, o.tls);
  const t0 = performance.now();
  const proc = spawnPinned(env.core, process.execPath, [
    ...(o.nodeFlags ?? []), ...extraNodeFlags(), MAIN, 'proxy', '--xds-address', `127.0.0.1:${ads.port}`,
    '--node-id', 'sidecar~127.0.0.1~bench.default~default.svc.cluster.local', '--admin-port', String(adminPort), '--drain-seconds', '0',
  ], { ISTIO_META_WORKLOAD_NAME: 'bench', ISTIO_META_NAMESPACE: 'default', TRELLIS_LOG: 'warn', ...o.env });
  const stop = async () => {
    await proc.stop();
    ads.stop();
  };
  try {
    await waitReady(adminPort, proc);
    const startMs = performance.now() - t0;
    await waitForPort(port, 5000);
    return { name: o.name ?? 'trellis', port, pids: [proc.pid], startMs, proc, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function waitReady(adminPort: number, proc: Spawned, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.proc.exitCode !== null) throw new Error(`trellis proxy exited: ${proc.output()}`);
    try {
      const r = await request(`http://127.0.0.1:${adminPort}/ready`);
      await r.body.dump();
      if (r.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(2);
  }
  throw new Error(`trellis proxy not ready within ${timeoutMs} ms: ${proc.output()}`);
}

/** Two proxies in a chain: load → first → second → backend; both measured. */
export function chain(first: Target, second: Target, name: string): Target {
  return {
    name,
    port: first.port,
    pids: [...first.pids, ...second.pids],
    stop: async () => { await first.stop(); await second.stop(); },
  };
}
