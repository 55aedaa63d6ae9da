/**
 * Issue 12: the setup the resource-exhaustion tests share (hostile-limits,
 * hostile-h2, connection-storm). The real proxy binary with a fake ADS server
 * and one counting backend; `alive()` checks that the proxy still serves a
 * normal client, `rssKiB()`/`fds()` read the proxy process from /proc so a
 * test can bound the memory and descriptors an attack leaves behind.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { writeBigBody } from '../../helpers/test-bodies.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig, type ClusterOpts, type HcmTimeouts, type RouteInit } from './xds-builders.js';

/** What the backend saw: requests started, open now, the most open at once, and how they ended. */
export interface BackendCounts { started: number; open: number; maxOpen: number; completed: number; aborted: number; bytes: number }

export interface HostileFixture {
  ads: FakeAdsServer;
  backend: Backend;
  proxy: RunningProxy;
  /** The HTTP listener's port. */
  port: number;
  counts: BackendCounts;
  /** What the backend saw and holds open now, for a failing test's message. */
  describe(): string;
  /** Resets the backend counters (between cases); requests begun before no longer count. */
  resetCounts(): void;
  /** The proxy is alive, ready, and answers an HTTP/1.1 and an HTTP/2 request from a well-behaved client. */
  alive(): Promise<void>;
  /** The proxy's resident set (VmRSS), KiB. */
  rssKiB(): number;
  /** The proxy's open file descriptors. */
  fds(): number;
  /** A counter or gauge from the admin /stats (0 when absent). */
  stat(name: string): Promise<number>;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  hcm?: HcmTimeouts;
  /** Extra fields of the route action (timeout, retry_policy, request_mirror_policies...). */
  route?: Record<string, unknown>;
  /** Extra routes before the catch-all. */
  routes?: RouteInit[];
  cluster?: ClusterOpts;
  env?: NodeJS.ProcessEnv;
  /** More resources (listeners, secrets) beside the HTTP listener, route and cluster. */
  resources?: Array<[typeUrl: string, name: string, resource: Any]>;
}

/**
 * The backend: /slow/* answers after 5 s (long enough for a client to
 * reset the stream first), /big/N answers N bytes (with back-pressure),
 * anything else answers with the number of body bytes it read.
 */
/** `openPaths`, `completedPaths`: the requests the backend holds open now and the first that ran to their end, for a failing test's message. */
function backendHandler(counts: BackendCounts, generation: () => number, openPaths: Set<string>, completedPaths: string[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    // A request of an earlier case that ends now (its abort still on its way) must not count against this one.
    const gen = generation();
    counts.started++;
    counts.open++;
    counts.maxOpen = Math.max(counts.maxOpen, counts.open);
    let n = 0;
    let done = false;
    const id = `${gen}:${counts.started}:${req.url ?? ''}`;
    const t0 = Date.now();
    openPaths.add(id);
    const end = (how: 'completed' | 'aborted') => {
      if (done) return;
      done = true;
      openPaths.delete(id);
      if (gen !== generation()) return;
      counts.open--;
      counts[how]++;
      if (how === 'completed' && completedPaths.length < 10) completedPaths.push(`${id} after ${Date.now() - t0} ms`);
    };
    req.on('data', (c: Buffer) => { n += c.length; counts.bytes += c.length; });
    req.on('error', () => undefined);
    res.on('close', () => end(res.writableFinished ? 'completed' : 'aborted'));
    req.on('end', () => {
      const answer = () => { if (!res.destroyed) res.end(String(n)); };
      const big = /^\/big\/(\d+)/.exec(req.url ?? '');
      if (big) writeBigBody(res, Number(big[1]));
      else if (req.url?.startsWith('/slow')) setTimeout(answer, 5000);
      else answer();
    });
  };
}

export async function startHostileFixture(o: FixtureOptions = {}): Promise<HostileFixture> {
  const counts: BackendCounts = { started: 0, open: 0, maxOpen: 0, completed: 0, aborted: 0, bytes: 0 };
  let generation = 0;
  const openPaths = new Set<string>();
  const completedPaths: string[] = [];
  const ads = new FakeAdsServer();
  // Heads up to the proxy's limit must reach it: node's default (16 KiB) would answer 431 itself.
  const backend = await startBackend(backendHandler(counts, () => generation, openPaths, completedPaths), { maxHeaderSize: 256 * 1024 });
  ads.setAll(TypeUrl.Cluster, [['echo', edsCluster('echo', o.cluster)]]);
  ads.setAll(TypeUrl.ClusterLoadAssignment, [['echo', endpoints('echo', [backend.port])]]);
  ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes', 0, undefined, o.hcm)]]);
  ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [...(o.routes ?? []), prefixRoute('/', 'echo', o.route)] }])]]);
  for (const [type, name, any] of o.resources ?? []) ads.set(type, name, any);
  await ads.start();
  const proxy = await startProxy(ads.port, [], o.env);
  await proxy.ready();
  const port = await proxy.listenerPort('http');
  const pid = proxy.proc.pid!;

  const alive = async () => {
    assert.equal(proxy.proc.exitCode, null, `proxy exited: ${proxy.stderr().slice(-2000)}`);
    assert.equal((await proxy.admin('/ready')).status, 200);
    const r = await request(`http://127.0.0.1:${port}/after/h1`, { method: 'POST', body: 'fine', signal: AbortSignal.timeout(5000) });
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), '4');
    assert.equal(await h2Get(port, '/after/h2'), 200);
  };

  return {
    ads, backend, proxy, port, counts, alive,
    describe: () => `${JSON.stringify(counts)} open now (generation:n:path): ${[...openPaths].slice(0, 10).join(' ') || 'none'}; completed: ${completedPaths.join(', ') || 'none'}`,
    resetCounts() { generation++; completedPaths.length = 0; Object.assign(counts, { started: 0, open: 0, maxOpen: 0, completed: 0, aborted: 0, bytes: 0 }); },
    rssKiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN),
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    async stat(name) {
      const line = (await proxy.admin('/stats')).body.split('\n').find((l) => l.startsWith(`${name}: `));
      return line ? Number(line.slice(name.length + 2)) : 0;
    },
    async stop() {
      await proxy.stop();
      ads.stop();
      await backend.close();
    },
  };
}

/** One HTTP/2 GET from a well-behaved client on a fresh connection; resolves with the status. */
export async function h2Get(port: number, path: string, timeoutMs = 5000): Promise<number> {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => undefined);
  try {
    return await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`HTTP/2 GET ${path}: no response in ${timeoutMs} ms`)), timeoutMs);
      const req = client.request({ ':path': path, ':authority': 'x' });
      req.on('response', (h) => { clearTimeout(t); resolve(Number(h[':status'])); });
      req.on('error', (e) => { clearTimeout(t); reject(e); });
      req.resume();
      req.end();
    });
  } finally {
    client.destroy();
  }
}

/** Waits until the proxy's RSS is within `limitKiB` of `baseKiB` (garbage is collected lazily), failing with the figures. */
export async function rssSettles(f: HostileFixture, baseKiB: number, limitKiB: number, what: string): Promise<void> {
  let last = f.rssKiB();
  const deadline = Date.now() + 5000;
  while (last - baseKiB > limitKiB && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    last = f.rssKiB();
  }
  assert.ok(last - baseKiB <= limitKiB, `${what}: RSS grew from ${baseKiB} KiB to ${last} KiB (allowed +${limitKiB} KiB)`);
}
