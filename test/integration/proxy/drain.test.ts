/** SIGTERM drains: no new connections, in-flight requests finish (with "connection: close"), then the process exits. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Client } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, sleep, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';

describe('proxy: drain on SIGTERM', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let slow: Backend;
  let client: Client | undefined;

  before(async () => {
    slow = await startBackend((req, res) => {
      req.resume();
      const t = setTimeout(() => res.end('finished'), 400);
      res.on('close', () => clearTimeout(t));
    });
    ads.setAll(TypeUrl.Cluster, [['slow', edsCluster('slow')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['slow', endpoints('slow', [slow.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'slow')] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port, ['--drain-seconds', '3']);
    await proxy.ready();
  });

  after(async () => {
    await client?.destroy();
    await proxy?.stop();
    ads.stop();
    await slow?.close();
  });

  test('the in-flight request completes, new connections are refused, the process exits 0', async () => {
    const port = await proxy.listenerPort('http');
    client = new Client(`http://127.0.0.1:${port}`);
    const inflight = client.request({ path: '/', method: 'GET' });
    await sleep(100);
    const exited = new Promise<number | null>((r) => proxy.proc.once('exit', (code) => r(code)));
    const t0 = Date.now();
    proxy.proc.kill('SIGTERM');
    const r = await inflight;
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers.connection, 'close');
    assert.equal(await r.body.text(), 'finished');
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(true));
    });
    assert.ok(refused, 'listener closed during drain');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - t0 < 3000, 'exited once connections were done, before the drain time');
  });
});
