/**
 * Fuzz: the real `trellis proxy` between hostile peers. Downstream, HTTP/2
 * frame sequences (right and wrong) through node:http2 as the proxy wires it;
 * upstream, mutated HTTP/1.1 responses from a backend that lies. Whatever
 * arrives, the proxy must stay up and ready, every connection must end in
 * bounded time, and good requests must still pass afterwards.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import fc from 'fast-check';
import { request } from 'undici';
import { TypeUrl } from '../../src/xds/type-urls.js';
import { FakeAdsServer } from '../integration/proxy/fake-ads-server.js';
import { eventually, startProxy, type RunningProxy } from '../integration/proxy/harness.js';
import { edsCluster, endpoints, httpListener, ms, prefixRoute, routeConfig } from '../integration/proxy/xds-builders.js';
import { fuzz, mutated } from './harness.js';
import { h2Conversation } from './h2-frames.js';

/** A backend that answers each request with the bytes the current case chose, then closes. */
class LyingBackend {
  readonly server = net.createServer((s) => this.#serve(s));
  next: Buffer = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  #serve(s: net.Socket): void {
    let head = '';
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += c.toString('latin1');
      if (head.includes('\r\n\r\n')) s.end(this.next);
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }
}

const okResponse = fc.record({
  status: fc.constantFrom(200, 204, 301, 404, 500, 503),
  body: fc.uint8Array({ maxLength: 40 }),
  framing: fc.constantFrom('length', 'chunked', 'close'),
  extra: fc.constantFrom('', 'x-a: b\r\n', 'connection: close\r\n', 'set-cookie: a=1\r\nset-cookie: b=2\r\n'),
}).map((r) => {
  const body = Buffer.from(r.body);
  const framing = r.framing === 'length' ? `content-length: ${body.length}\r\n` : r.framing === 'chunked' ? 'transfer-encoding: chunked\r\n' : '';
  const payload = r.framing === 'chunked' ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from(`\r\n${body.length ? '0\r\n\r\n' : ''}`)]) : body;
  return new Uint8Array(Buffer.concat([Buffer.from(`HTTP/1.1 ${r.status} X\r\n${r.extra}${framing}\r\n`), payload]));
});

describe('fuzz: the proxy between hostile peers', () => {
  const ads = new FakeAdsServer();
  const backend = new LyingBackend();
  let proxy: RunningProxy;
  let port = 0;

  const alive = async () => {
    assert.equal(proxy.proc.exitCode, null, `proxy exited: ${proxy.stderr().slice(-2000)}`);
    assert.equal((await proxy.admin('/ready')).status, 200);
  };

  before(async () => {
    const bport = await backend.listen();
    ads.setAll(TypeUrl.Cluster, [['liar', edsCluster('liar')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['liar', endpoints('liar', [bport])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes', 0, undefined, { requestHeadersTimeout: ms(300), streamIdleTimeout: ms(300) })]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'liar', { timeout: ms(1500) })] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await new Promise((r) => backend.server.close(r));
  });

  test('HTTP/2 frame sequences from a client: the proxy stays up and ends each connection', async (t) => {
    let case_ = 0;
    await fuzz('proxy h2 downstream', fc.asyncProperty(h2Conversation, async (bytes) => {
      backend.next = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      const closed = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        const timer = setTimeout(() => { s.destroy(); resolve(false); }, 4000);
        s.on('error', () => undefined);
        s.on('data', () => undefined);
        s.on('close', () => { clearTimeout(timer); resolve(true); });
        s.on('connect', () => s.end(bytes));
      });
      assert.ok(closed, 'connection not ended within 4 s');
      if (++case_ % 25 === 0) await alive();
    }), 60, t);
    await alive();
    const client = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = client.request({ ':path': '/after', ':authority': 'x' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
    } finally {
      client.close();
    }
  });

  test('mutated upstream responses: every client request ends, the proxy stays up', async (t) => {
    let case_ = 0;
    await fuzz('proxy h1 upstream', fc.asyncProperty(fc.oneof(okResponse, mutated(okResponse, 6), fc.uint8Array({ maxLength: 200 })), async (bytes) => {
      backend.next = Buffer.from(bytes);
      const ac = AbortSignal.timeout(4000);
      try {
        const r = await request(`http://127.0.0.1:${port}/u${case_}`, { signal: ac });
        await r.body.arrayBuffer().catch(() => undefined);
        assert.ok(r.statusCode >= 100 && r.statusCode < 600);
      } catch (err) {
        // A reset is a fine answer to a lying upstream; a client left waiting is not.
        assert.ok(!ac.aborted, `request to the proxy hung: ${String(err)}`);
      }
      if (++case_ % 25 === 0) await alive();
    }), 150, t);
    await alive();
    backend.next = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ngood');
    const r = await request(`http://127.0.0.1:${port}/after`);
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'good');
  });
});
