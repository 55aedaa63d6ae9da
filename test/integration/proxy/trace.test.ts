/** Trace context through the proxy: the app behind it sees the same trace and a new span per hop. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';

describe('proxy: trace context propagation', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let backend: Backend;
  let port = 0;
  const cluster = 'outbound|8080||web.default.svc.cluster.local';

  before(async () => {
    backend = await echoBackend('web');
    await ads.start();
    ads.setAll(TypeUrl.Cluster, [[cluster, edsCluster(cluster)]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [[cluster, endpoints(cluster, [backend.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', '8080')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['8080', routeConfig('8080', [{ name: 'web', domains: ['*'], routes: [prefixRoute('/', cluster)] }])]]);
    proxy = await startProxy(ads.port);
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 5000, 'ready');
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await backend?.close();
  });

  const seenHeaders = async (headers: Record<string, string>) => {
    const r = await request(`http://127.0.0.1:${port}/`, { headers });
    assert.equal(r.statusCode, 200);
    return ((await r.body.json()) as { headers: Record<string, string> }).headers;
  };

  test('an incoming traceparent keeps its trace id and gets a new span; B3 carries the same ids', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const h = await seenHeaders({ traceparent: `00-${trace}-00f067aa0ba902b7-01` });
    const [, t, span] = h.traceparent!.split('-');
    assert.equal(t, trace);
    assert.notEqual(span, '00f067aa0ba902b7');
    assert.equal(h['x-b3-traceid'], trace);
    assert.equal(h['x-b3-parentspanid'], '00f067aa0ba902b7');
  });

  test('a request without context starts a trace', async () => {
    const h = await seenHeaders({});
    assert.match(h.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    assert.ok(h['x-request-id'], 'x-request-id generated too');
  });
});
