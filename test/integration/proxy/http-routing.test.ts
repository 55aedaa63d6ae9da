/**
 * The proxy binary against the fake ADS server: routing by virtual host and
 * headers, weighted clusters, header manipulation, local replies, access log.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { Cluster_DiscoveryType, Cluster_LbPolicy } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema } from '../../../src/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { edsCluster, endpoints, httpListener, ms, prefixRoute, rawCluster, routeConfig, type RouteInit } from './xds-builders.js';

const fault = (init: MessageInitShape<typeof HTTPFaultSchema>) => anyPack(HTTPFaultSchema, create(HTTPFaultSchema, init));

describe('proxy: HTTP routing', () => {
  const ads = new FakeAdsServer();
  const backends: Backend[] = [];
  let proxy: RunningProxy;
  let port = 0;
  const agent = new Agent({ connections: 8 });
  const shadowSeen: string[] = [];

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await request(`http://127.0.0.1:${port}${path}`, { headers, dispatcher: agent });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, text, json: () => JSON.parse(text) as { name: string; path: string; headers: Record<string, string> } };
  };

  before(async () => {
    const [a, b, c] = await Promise.all([echoBackend('a'), echoBackend('b'), echoBackend('c')]);
    backends.push(a, b, c);
    const shadow = await startBackend((req, res) => {
      shadowSeen.push(`${req.method} ${req.headers.host} ${req.url}`);
      req.resume();
      res.end();
    });
    backends.push(shadow);
    const ring = rawCluster({
      name: 'ring',
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
      edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
      lbPolicy: Cluster_LbPolicy.RING_HASH,
    });
    ads.setAll(TypeUrl.Cluster, [['a', edsCluster('a')], ['b', edsCluster('b')], ['c', edsCluster('c')], ['empty', edsCluster('empty')], ['shadow', edsCluster('shadow')], ['ring', ring]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [
      ['a', endpoints('a', [a.port])], ['b', endpoints('b', [b.port])], ['c', endpoints('c', [c.port])], ['empty', endpoints('empty', [])],
      ['shadow', endpoints('shadow', [shadow.port])], ['ring', endpoints('ring', [a.port, b.port, c.port])],
    ]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes', 0, '')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [
      {
        name: 'split',
        domains: ['split.local', 'split.local:*'],
        routes: [{
          name: 'weighted',
          match: { pathSpecifier: { case: 'prefix', value: '/' } },
          action: { case: 'route', value: { clusterSpecifier: { case: 'weightedClusters', value: { clusters: [{ name: 'a', weight: 75 }, { name: 'b', weight: 25 }] } } } },
        }],
      },
      {
        name: 'main',
        domains: ['*'],
        requestHeadersToAdd: [{ header: { key: 'x-vhost', value: 'main' } }],
        routes: [
          {
            name: 'by-header',
            match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: 'x-canary', headerMatchSpecifier: { case: 'exactMatch', value: 'yes' } }] },
            action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' } } },
          },
          {
            name: 'regex',
            match: { pathSpecifier: { case: 'safeRegex', value: { regex: '/items/[0-9]+' } } },
            action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'b' } } },
          },
          {
            ...prefixRoute('/headers', 'a'),
            name: 'headers',
            requestHeadersToAdd: [{ header: { key: 'x-added', value: 'route' } }, { header: { key: 'x-replace', value: 'new' }, append: false }],
            requestHeadersToRemove: ['x-secret'],
            responseHeadersToAdd: [{ header: { key: 'x-resp', value: 'yes' } }],
            responseHeadersToRemove: ['x-backend'],
          } as RouteInit,
          { ...prefixRoute('/fault-abort', 'a'), name: 'fault-abort', typedPerFilterConfig: { 'envoy.filters.http.fault': fault({ abort: { errorType: { case: 'httpStatus', value: 418 }, percentage: { numerator: 100 } } }) } },
          { ...prefixRoute('/fault-delay', 'a'), name: 'fault-delay', typedPerFilterConfig: { 'envoy.filters.http.fault': fault({ delay: { faultDelaySecifier: { case: 'fixedDelay', value: ms(250) }, percentage: { numerator: 100 } } }) } },
          { ...prefixRoute('/fault-never', 'a'), name: 'fault-never', typedPerFilterConfig: { 'envoy.filters.http.fault': fault({ abort: { errorType: { case: 'httpStatus', value: 500 }, percentage: { numerator: 0 } } }) } },
          { ...prefixRoute('/rx/', 'a', { regexRewrite: { pattern: { regex: '^/rx/(\\w+)/item$' }, substitution: '/items/\\1' } }), name: 'regex-rewrite' },
          { ...prefixRoute('/mirror', 'a', { requestMirrorPolicies: [{ cluster: 'shadow' }] }), name: 'mirror' },
          { ...prefixRoute('/sticky', 'ring', { hashPolicy: [{ policySpecifier: { case: 'header', value: { headerName: 'x-user' } } }] }), name: 'sticky' },
          { ...prefixRoute('/nohost', 'empty'), name: 'nohost' },
          { ...prefixRoute('/nocluster', 'missing'), name: 'nocluster' },
          { ...prefixRoute('/api', 'a', { prefixRewrite: '/v2' }), name: 'rewrite' },
          {
            name: 'backtrack',
            match: { pathSpecifier: { case: 'safeRegex', value: { regex: '/bt/(\\w+/?)+' } } },
            action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'b' } } },
          },
          { ...prefixRoute('/', 'a'), name: 'default' },
        ],
      },
    ])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await agent.close();
    await proxy?.stop();
    ads.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  test('default route reaches the cluster; x-request-id and upstream service time are set', async () => {
    const r = await get('/hello');
    assert.equal(r.status, 200);
    const body = r.json();
    assert.equal(body.name, 'a');
    assert.match(body.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(body.headers['x-vhost'], 'main');
    assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
  });

  test('header match selects another cluster', async () => {
    assert.equal((await get('/x', { 'x-canary': 'yes' })).json().name, 'c');
    assert.equal((await get('/x', { 'x-canary': 'no' })).json().name, 'a');
  });

  test('safe_regex path match is a full match', async () => {
    assert.equal((await get('/items/42')).json().name, 'b');
    assert.equal((await get('/items/42x')).json().name, 'a');
  });

  test('a route regex prone to backtracking answers a hostile path at once (RE2 is linear; V8 falls back to its linear engine)', async () => {
    assert.equal((await get('/bt/x/y/')).json().name, 'b');
    // Without the fallback, 2^48 ways to split the a's: the proxy's only event loop would never get to answer.
    const hostile = `/bt/${'a'.repeat(48)}!`;
    const r = await request(`http://127.0.0.1:${port}${hostile}`, { dispatcher: agent, headersTimeout: 10_000 });
    assert.equal((JSON.parse(await r.body.text()) as { name: string }).name, 'a');
  });

  test('weighted clusters split traffic roughly by weight', async () => {
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 200; i++) counts[(await get('/w', { host: 'split.local' })).json().name]++;
    assert.equal(counts.a + counts.b, 200);
    assert.ok(counts.a > 110 && counts.a < 185, `a got ${counts.a} of 200 (75 % expected)`);
  });

  test('request and response headers are added, replaced and removed', async () => {
    const r = await get('/headers', { 'x-replace': 'old', 'x-secret': 's' });
    const seen = r.json().headers;
    assert.equal(seen['x-added'], 'route');
    assert.equal(seen['x-replace'], 'new');
    assert.equal(seen['x-secret'], undefined);
    assert.equal(r.headers['x-resp'], 'yes');
    assert.equal(r.headers['x-backend'], undefined);
  });

  test('prefix rewrite keeps the original path in x-envoy-original-path', async () => {
    const body = (await get('/api/users?id=1')).json();
    assert.equal(body.path, '/v2/users?id=1');
    assert.equal(body.headers['x-envoy-original-path'], '/api/users?id=1');
  });

  test('fault injection: abort with the configured status (FI), fixed delay (DI), 0 % never fires', async () => {
    const aborted = await get('/fault-abort');
    assert.equal(aborted.status, 418);
    assert.equal(aborted.text, 'fault filter abort');
    const t0 = Date.now();
    const delayed = await get('/fault-delay');
    assert.equal(delayed.status, 200);
    assert.ok(Date.now() - t0 >= 240, 'delayed by the fault filter');
    assert.equal((await get('/fault-never')).status, 200);
    const prom = (await proxy.admin('/stats/prometheus')).body;
    assert.match(prom, /istio_requests_total\{[^}]*response_code="418",response_flags="FI"[^}]*\} 1/);
    assert.match(prom, /istio_requests_total\{[^}]*response_code="200",response_flags="DI"[^}]*\} 1/);
  });

  test('regex rewrite substitutes capture groups and keeps the query', async () => {
    const body = (await get('/rx/abc/item?x=1')).json();
    assert.equal(body.path, '/items/abc?x=1');
    assert.equal(body.headers['x-envoy-original-path'], '/rx/abc/item?x=1');
  });

  test('request mirroring sends a copy to the shadow cluster with "-shadow" on the host', async () => {
    const r = await get('/mirror/x', { host: 'reviews:9080' });
    assert.equal(r.json().name, 'a');
    await eventually(() => shadowSeen.includes('GET reviews-shadow:9080 /mirror/x'), 3000, 'shadow request');
  });

  test('ring hash: the same header value sticks to one endpoint, different values spread', async () => {
    const owners = new Map<string, Set<string>>();
    for (let u = 0; u < 12; u++) {
      for (let i = 0; i < 4; i++) {
        const name = (await get('/sticky', { 'x-user': `user-${u}` })).json().name;
        if (!owners.has(`user-${u}`)) owners.set(`user-${u}`, new Set());
        owners.get(`user-${u}`)!.add(name);
      }
    }
    for (const [user, set] of owners) assert.equal(set.size, 1, `${user} moved between ${[...set].join(', ')}`);
    assert.ok(new Set([...owners.values()].map((s) => [...s][0])).size >= 2, 'keys spread over more than one endpoint');
  });

  test('local replies: no healthy upstream 503, unknown cluster 503', async () => {
    const uh = await get('/nohost');
    assert.equal(uh.status, 503);
    assert.equal(uh.text, 'no healthy upstream');
    assert.equal((await get('/nocluster')).status, 503);
  });

  test('access log lines use the Istio default format with response flags', async () => {
    await get('/nohost', { 'user-agent': 'log-test' });
    const line = await eventually(() => proxy.stdout().split('\n').find((l) => l.includes('/nohost') && l.includes('log-test')), 3000, 'access log line');
    assert.match(line, /^\[\d{4}-\d\d-\d\dT[^\]]+\] "GET \/nohost HTTP\/1\.1" 503 UH /);
    assert.match(line, /"empty"|\bempty\b/);
  });

  test('malformed HTTP gets 400 and a closed connection', async () => {
    const net = await import('node:net');
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
      let buf = '';
      s.on('data', (c) => { buf += c.toString(); });
      s.on('close', () => resolve(buf));
      s.on('error', reject);
      s.setTimeout(3000, () => { s.destroy(); reject(new Error('no reply')); });
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
  });
});
