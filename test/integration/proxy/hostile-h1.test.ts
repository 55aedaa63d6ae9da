/**
 * Issue 8: no byte sequence a peer sends may crash or hang the sidecar. A table
 * of malformed HTTP/1.1 requests against the real proxy binary; after each,
 * the proxy must be alive and ready and a good request must still pass, and
 * the proxy's HTTP/1.1 codec must answer exactly as the table says. (The
 * node:http fallback engine this also ran against was removed in issue 12.)
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, ms, prefixRoute, routeConfig } from './xds-builders.js';
import { malformedRequests, sendRaw, statusOf } from '../../helpers/malformed-requests.js';

describe('proxy: hostile HTTP/1.1 input', () => {
  const ads = new FakeAdsServer();
  let backend: Backend;
  let proxy: RunningProxy;
  let port = 0;
  /** Requests that reached the backend, and how each ended. */
  const seen: Array<{ url: string; outcome: 'complete' | 'aborted' }> = [];
  const headersSeen = new Map<string, Record<string, unknown>>();

  const alive = async () => {
    assert.equal(proxy.proc.exitCode, null, `proxy exited: ${proxy.stderr()}`);
    assert.equal((await proxy.admin('/ready')).status, 200);
    const r = await request(`http://127.0.0.1:${port}/echo/ok`, { method: 'POST', body: 'fine' });
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'fine');
  };

  before(async () => {
    backend = await startBackend((req, res) => {
      const chunks: Buffer[] = [];
      headersSeen.set(req.url ?? '', Object.fromEntries(Object.entries(req.headers)));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', outcome: 'complete' });
        res.end(Buffer.concat(chunks));
      });
      req.on('aborted', () => seen.push({ url: req.url ?? '', outcome: 'aborted' }));
    });
    ads.setAll(TypeUrl.Cluster, [['echo', edsCluster('echo')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['echo', endpoints('echo', [backend.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes', 0, undefined, { requestHeadersTimeout: ms(400), streamIdleTimeout: ms(600) })]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'echo')] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port, []);
    await proxy.ready();
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await backend?.close();
  });

  for (const c of malformedRequests('echo.test', '/echo/bad')) {
    test(`${c.name}: ${c.status}, connection closed, proxy alive`, async () => {
      const reply = await sendRaw('127.0.0.1', port, c.send);
      assert.equal(statusOf(reply), c.status, `reply: ${JSON.stringify(reply.data.slice(0, 200))}`);
      assert.ok(reply.closed, 'the proxy closes the connection after a malformed request');
      await alive();
    });
  }

  test('a request head that never completes is answered 408 after request_headers_timeout', async () => {
    const t0 = Date.now();
    const reply = await sendRaw('127.0.0.1', port, Buffer.from('GET /echo/slow HTTP/1.1\r\nhost: x\r\n'), 5000);
    assert.equal(statusOf(reply), 408);
    assert.ok(reply.closed);
    assert.ok(Date.now() - t0 >= 350, 'not before the timeout');
    await alive();
  });

  test('a request body that stalls is ended by stream_idle_timeout (408) and the upstream request aborted', async () => {
    const head = 'POST /echo/stall HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n';
    const reply = await sendRaw('127.0.0.1', port, Buffer.from(`${head}only part of it`), 5000);
    assert.equal(statusOf(reply), 408);
    assert.ok(reply.closed);
    await eventually(() => seen.find((s) => s.url === '/echo/stall')?.outcome === 'aborted', 3000, 'upstream request aborted');
    await alive();
  });

  test("header names of Object.prototype's members (constructor, __proto__, toString) pass as ordinary headers", async () => {
    const reply = await sendRaw('127.0.0.1', port, Buffer.from('POST /echo/proto HTTP/1.1\r\nhost: x\r\nconstructor: a\r\n__proto__: b\r\ntoString: c\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'));
    assert.equal(statusOf(reply), 200, reply.data);
    assert.equal(headersSeen.get('/echo/proto')?.constructor, 'a');
    assert.equal(headersSeen.get('/echo/proto')?.tostring, 'c');
    await alive();
  });

  test('no malformed request reached the backend', () => {
    assert.deepEqual(seen.filter((s) => s.url === '/echo/bad' && s.outcome === 'complete'), []);
  });
});
