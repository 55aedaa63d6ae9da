/** Retries, route timeouts, circuit breaking and connect failures, with Envoy's status codes and response flags. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { freePort } from '../../helpers/ports.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, ms, prefixRoute, rawCluster, routeConfig } from './xds-builders.js';
import { Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';

describe('proxy: HTTP resilience', () => {
  const ads = new FakeAdsServer();
  const backends: Backend[] = [];
  let proxy: RunningProxy;
  let port = 0;
  const agent = new Agent({ connections: 16 });
  /** Attempts seen by the flaky backend, by x-request-id. */
  const attempts = new Map<string, number>();
  const held: Array<() => void> = [];

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await request(`http://127.0.0.1:${port}${path}`, { headers, dispatcher: agent });
    return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
  };

  before(async () => {
    const flaky = await startBackend((req, res) => {
      const id = String(req.headers['x-test-id']);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      req.resume();
      if (req.url?.startsWith('/always') || n === 1) res.writeHead(503).end('try again');
      else res.writeHead(200).end(`ok after ${n}`);
    });
    const slow = await startBackend((req, res) => {
      req.resume();
      if (req.url?.startsWith('/trickle')) {
        // Headers and a first piece now, the rest after the route timeout.
        res.writeHead(200, { 'content-length': '10' });
        res.write('first');
        const t = setTimeout(() => res.end('-rest'), 2000);
        res.on('close', () => clearTimeout(t));
        return;
      }
      const t = setTimeout(() => res.writeHead(200).end('slow'), 2000);
      res.on('close', () => clearTimeout(t));
    });
    // Holds every request until released, so concurrent requests pile up in the circuit breaker.
    const hold = await startBackend((req, res) => {
      req.resume();
      held.push(() => res.writeHead(200).end('held'));
    });
    const broken = await startBackend((req, res) => { req.resume(); res.writeHead(500).end('broken'); });
    const healthy = await startBackend((req, res) => { req.resume(); res.end('healthy'); });
    backends.push(flaky, slow, hold, broken, healthy);
    // A port with nothing listening (bound, then closed).
    const dead = await freePort();
    ads.setAll(TypeUrl.Cluster, [
      ['flaky', edsCluster('flaky')], ['slow', edsCluster('slow')], ['dead', edsCluster('dead', { connectTimeoutMs: 500 })],
      ['hold', edsCluster('hold', { maxConnections: 1, maxPendingRequests: 1, maxRequests: 100 })],
      ['od', rawCluster({
        name: 'od',
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
        edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
        outlierDetection: { consecutive5xx: 3, baseEjectionTime: ms(30_000), maxEjectionPercent: 100 },
        commonLbConfig: { healthyPanicThreshold: { value: 0 } },
      })],
    ]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [
      ['flaky', endpoints('flaky', [flaky.port])], ['slow', endpoints('slow', [slow.port])],
      ['dead', endpoints('dead', [dead])], ['hold', endpoints('hold', [hold.port])], ['od', endpoints('od', [broken.port, healthy.port])],
    ]);
    const retry = { retryOn: '5xx,connect-failure', numRetries: 2, retryBackOff: { baseInterval: ms(5), maxInterval: ms(20) } };
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'all',
      domains: ['*'],
      routes: [
        prefixRoute('/retry', 'flaky', { retryPolicy: retry }),
        prefixRoute('/always', 'flaky', { retryPolicy: retry }),
        prefixRoute('/noretry', 'flaky'),
        prefixRoute('/timeout', 'slow', { timeout: ms(300) }),
        prefixRoute('/trickle', 'slow', { timeout: ms(300) }),
        prefixRoute('/pertry', 'slow', { timeout: ms(2500), retryPolicy: { retryOn: '5xx', numRetries: 1, perTryTimeout: ms(200) } }),
        prefixRoute('/dead', 'dead', { retryPolicy: { retryOn: 'connect-failure', numRetries: 1 } }),
        prefixRoute('/hold', 'hold'),
        prefixRoute('/od', 'od'),
      ],
    }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    for (const release of held.splice(0)) release();
    await agent.close();
    await proxy?.stop();
    ads.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  test('a 503 on the first attempt is retried and the client sees the success', async () => {
    const r = await get('/retry', { 'x-test-id': 'r1' });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok after 2');
    assert.equal(attempts.get('r1'), 2);
  });

  test('without a retry policy the 503 goes back to the client', async () => {
    const r = await get('/noretry', { 'x-test-id': 'n1' });
    assert.equal(r.status, 503);
    assert.equal(attempts.get('n1'), 1);
  });

  test('retries exhausted: the last upstream response is returned, flagged URX', async () => {
    const r = await get('/always', { 'x-test-id': 'a1', 'user-agent': 'urx-test' });
    assert.equal(r.status, 503);
    assert.equal(attempts.get('a1'), 3);
    const stats = (await proxy.admin('/stats')).body;
    assert.match(stats, /cluster\.flaky\.upstream_rq_retry: [3-9]/);
    const prom = (await proxy.admin('/stats/prometheus')).body;
    assert.match(prom, /istio_requests_total\{[^}]*response_code="503",response_flags="URX"[^}]*\} 1/);
  });

  test('route timeout answers 504 with "upstream request timeout"', async () => {
    const started = Date.now();
    const r = await get('/timeout');
    assert.equal(r.status, 504);
    assert.equal(r.text, 'upstream request timeout');
    assert.ok(Date.now() - started < 1500, 'timed out near the 300 ms route timeout');
  });

  test('the route timeout spans the body: a response still streaming is reset and recorded as UT', async () => {
    const started = Date.now();
    const r = await request(`http://127.0.0.1:${port}/trickle`, { dispatcher: agent });
    assert.equal(r.statusCode, 200);
    const body = await r.body.text().then((t) => `complete: ${t}`, (e: Error) => `failed: ${e.message}`);
    assert.match(body, /^failed/, 'the client sees an incomplete response, not a complete one');
    assert.ok(Date.now() - started < 1500, 'cut near the 300 ms route timeout');
    await eventually(async () => /istio_requests_total\{[^}]*response_code="200",response_flags="UT"[^}]*\} 1/.test((await proxy.admin('/stats/prometheus')).body), 3000, 'UT recorded with the 200');
  });

  test('a client that goes away mid-request is recorded as downstream disconnect (DC)', async () => {
    const ac = new AbortController();
    const pending = request(`http://127.0.0.1:${port}/timeout`, { dispatcher: agent, signal: ac.signal }).catch((e: Error) => e);
    setTimeout(() => ac.abort(), 100);
    assert.ok((await pending) instanceof Error);
    await eventually(async () => /istio_requests_total\{[^}]*response_code="0",response_flags="DC"[^}]*\} 1/.test((await proxy.admin('/stats/prometheus')).body), 3000, 'DC recorded');
  });

  test('per-try timeout is retried, then answers 504', async () => {
    const started = Date.now();
    const r = await get('/pertry');
    assert.equal(r.status, 504);
    const took = Date.now() - started;
    assert.ok(took >= 350 && took < 1800, `two 200 ms tries, took ${took} ms`);
  });

  test('connect failure answers 503 UF after the retry', async () => {
    const r = await get('/dead');
    assert.equal(r.status, 503);
    assert.match(r.text, /connection failure/);
    const stats = (await proxy.admin('/stats')).body;
    assert.match(stats, /cluster\.dead\.upstream_cx_connect_fail: 2/);
  });

  test('outlier detection ejects an endpoint after consecutive 5xx; traffic then avoids it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await get('/od')).status);
    const failures = statuses.filter((s) => s === 500).length;
    assert.equal(failures, 3, `the 3 consecutive failures before ejection: ${statuses.join(' ')}`);
    assert.deepEqual(statuses.slice(-10), new Array(10).fill(200));
    const clusters = (await proxy.admin('/clusters')).body;
    assert.match(clusters, /^od::127\.0\.0\.1:\d+::health_flags::\/failed_outlier_check$/m);
    assert.match((await proxy.admin('/stats')).body, /^cluster\.od\.outlier_detection_ejections_enforced_total: 1$/m);
  });

  test('circuit breaker: beyond max connections + pending requests the proxy answers 503 (UO)', async () => {
    const inflight = [get('/hold'), get('/hold')];
    await eventually(() => held.length >= 1, 3000, 'first request at the backend');
    const overflow = await get('/hold');
    assert.equal(overflow.status, 503);
    assert.match(overflow.text, /overflow/);
    for (let i = 0; i < 20 && held.length < 2; i++) {
      for (const release of held.splice(0)) release();
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const release of held.splice(0)) release();
    const done = await Promise.all(inflight);
    assert.deepEqual(done.map((d) => d.status), [200, 200]);
    const prom = (await proxy.admin('/stats/prometheus')).body;
    assert.match(prom, /envoy_cluster_upstream_rq_pending_overflow\{cluster_name="hold"\} 1/);
    assert.match(prom, /istio_requests_total\{[^}]*response_code="503",response_flags="UO"[^}]*\} 1/);
  });
});
