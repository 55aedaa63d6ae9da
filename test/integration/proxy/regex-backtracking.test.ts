/**
 * Issue 8: Envoy's safe_regex is RE2 and matches in linear time; the proxy's
 * JavaScript RegExp backtracks, and "(a+)+" against a path of 32 "a" and a
 * "!" stalled the proxy's event loop for minutes. With V8's linear-time
 * fallback on (regex-safety.ts) the same request is answered at once, and
 * the proxy keeps serving other requests; what RE2 rejects is NACKed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';

describe('proxy: catastrophic backtracking in safe_regex', () => {
  const ads = new FakeAdsServer();
  let backend: Backend;
  let proxy: RunningProxy;
  let port = 0;
  // A deadline only to turn a stall into a failure; a healthy answer takes milliseconds.
  const get = async (path: string) => {
    const r = await request(`http://127.0.0.1:${port}${path}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    await r.body.text();
    return r.statusCode;
  };

  before(async () => {
    backend = await echoBackend('a');
    ads.setAll(TypeUrl.Cluster, [['a', edsCluster('a')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['a', endpoints('a', [backend.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'vh',
      domains: ['*'],
      routes: [
        { name: 'evil', match: { pathSpecifier: { case: 'safeRegex', value: { regex: '/(a+)+' } } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'a' } } } },
        { ...prefixRoute('/ok', 'a'), name: 'ok' },
      ],
    }])]]);
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

  test('a path that makes "/(a+)+" backtrack is answered (no route: 404), and the proxy keeps serving', async () => {
    assert.equal(await get('/aaaa'), 200, 'the regex route matches what it should');
    assert.equal(await get(`/${'a'.repeat(32)}!`), 404);
    assert.equal(await get('/ok'), 200);
  });

  test('a backreference (not RE2) is NACKed with its field path', async () => {
    const from = ads.requests.length;
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'vh',
      domains: ['*'],
      routes: [{ name: 'backref', match: { pathSpecifier: { case: 'safeRegex', value: { regex: '/(a)\\1' } } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'a' } } } }],
    }])]]);
    ads.push();
    const nack = await ads.waitFor((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.errorDetail !== undefined, 5000, from);
    assert.match(nack.errorDetail!, /virtualHosts\[0\]\.routes\[0\]\.match\.safeRegex\.regex: invalid regex "\/\(a\)\\\\1": the backreference \\1 is not RE2 syntax/);
    assert.equal(await get('/aaaa'), 200, 'the last good routes stay in service');
  });
});
