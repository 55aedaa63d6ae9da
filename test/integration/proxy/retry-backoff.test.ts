/**
 * retries.backoff through the real proxy (issue 13): the route carries the
 * retry policy the control plane translates from `retries: {attempts: 2,
 * retryOn: 5xx, backoff: 200ms}`, and a backend that fails twice sees the
 * retries spaced as Envoy spaces them: fully jittered, the n-th wait uniform
 * in [0, base·2^(n-1)). Each gap stays under its ceiling (plus slack for a
 * busy machine), and across several requests some gap is far longer than
 * Envoy's default 25 ms base could give — so the configured base is in use.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { retryPolicy } from '../../../src/controlplane/translate/routes/retry.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';

const BASE_MS = 200;
/** Scheduling and the attempt itself on a loaded machine. */
const SLACK_MS = 150;
const REQUESTS = 8;

describe('proxy: retry back-off (retries.backoff → retry_back_off.base_interval)', () => {
  const ads = new FakeAdsServer();
  let backend: Backend;
  let proxy: RunningProxy;
  let port = 0;
  /** Arrival times (ms) of each request's attempts, by x-test-id. */
  const arrivals = new Map<string, number[]>();

  before(async () => {
    backend = await startBackend((req, res) => {
      const id = String(req.headers['x-test-id']);
      const list = arrivals.get(id) ?? [];
      list.push(performance.now());
      arrivals.set(id, list);
      req.resume();
      if (list.length <= 2) res.writeHead(503).end('not yet');
      else res.writeHead(200).end(`ok after ${list.length}`);
    });
    const policy = retryPolicy({ attempts: 2, retryOn: '5xx', backoff: `${BASE_MS}ms` }, 'test')!;
    ads.setAll(TypeUrl.Cluster, [['flaky', edsCluster('flaky')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['flaky', endpoints('flaky', [backend.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'flaky', { retryPolicy: policy })] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await backend?.close();
  });

  test('a backend failing twice: gaps within [0, base) and [0, 2·base) (+ slack), and not Envoy\'s 25 ms default', async () => {
    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const r = await request(`http://127.0.0.1:${port}/x`, { headers: { 'x-test-id': String(i) } });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), 'ok after 3');
      const [a, b, c] = arrivals.get(String(i))!;
      first.push(b! - a!);
      second.push(c! - b!);
    }
    const show = `first gaps ${first.map(Math.round).join(',')} ms; second ${second.map(Math.round).join(',')} ms`;
    for (const g of first) assert.ok(g < BASE_MS + SLACK_MS, show);
    for (const g of second) assert.ok(g < 2 * BASE_MS + SLACK_MS, show);
    // With a 25 ms base every gap would be under 50 ms plus the attempt (seen: at most 50 ms in all); here all 16 staying under 100 ms has odds of about 6e-8.
    assert.ok(Math.max(...first, ...second) > 100, show);
  });
});
