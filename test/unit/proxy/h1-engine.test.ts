/**
 * The proxy binary's HTTP/1.1 engine (its own codec, src/proxy/codec/h1/) on raw
 * sockets at both ends: no node:http "keep-alive: timeout" header downstream,
 * no undici "connection" header upstream. Requests flow both ways and
 * upstream connections are reused. (The node:http + undici engine was
 * removed in issue 12; these are the assertions the lean engine had.)
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from '../../integration/proxy/fake-ads-server.js';
import { eventually, startProxy, type RunningProxy } from '../../integration/proxy/harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from '../../integration/proxy/xds-builders.js';

/** Sends raw bytes, collects the reply until `until` says so or the proxy closes. */
function raw(port: number, data: string, until: (got: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(data));
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`timeout; got ${JSON.stringify(got)}`)); }, 5000);
    const done = () => { clearTimeout(timer); s.destroy(); resolve(got); };
    s.on('data', (c) => { got += c.toString('latin1'); if (until(got)) done(); });
    s.on('close', done);
    s.on('error', () => undefined);
  });
}

describe('proxy with its HTTP/1.1 engine', () => {
  const ads = new FakeAdsServer();
  let backend: net.Server;
  let proxy: RunningProxy;
  let port = 0;
  const heads: string[] = [];
  let upstreamConns = 0;

  before(async () => {
    // A raw backend: records each request head, answers with a chunked body echoing path and request body.
    backend = net.createServer((s) => {
      upstreamConns++;
      let buf = '';
      s.on('data', (c) => {
        buf += c.toString('latin1');
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.slice(0, end + 4);
          const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          const chunked = /transfer-encoding: chunked/i.test(head);
          let body = '';
          let rest = buf.slice(end + 4);
          if (chunked) {
            const z = rest.indexOf('0\r\n\r\n');
            if (z < 0) return;
            body = rest.slice(0, z).split('\r\n').filter((_, i) => i % 2 === 1).join('');
            rest = rest.slice(z + 5);
          } else {
            if (rest.length < len) return;
            body = rest.slice(0, len);
            rest = rest.slice(len);
          }
          buf = rest;
          heads.push(head);
          const text = `${head.split(' ')[1]}|${body}`;
          s.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-backend: raw\r\n\r\n${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`);
        }
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const bport = (backend.address() as net.AddressInfo).port;
    ads.setAll(TypeUrl.Cluster, [['raw', edsCluster('raw')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['raw', endpoints('raw', [bport])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes', 0)]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'raw')] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port, []);
    await proxy.ready();
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await new Promise((r) => backend.close(r));
  });

  test('GET, chunked POST and a pipelined pair go through; upstream connections are reused', async () => {
    const got = await raw(port, 'GET /one HTTP/1.1\r\nhost: svc\r\n\r\n', (g) => g.endsWith('0\r\n\r\n'));
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(got, /x-backend: raw\r\n/);
    assert.doesNotMatch(got, /keep-alive: timeout/i, 'node:http answered, not the lean engine');
    assert.match(got, /\/one\|/);
    const post = await raw(port, 'POST /two HTTP/1.1\r\nhost: svc\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', (g) => g.endsWith('0\r\n\r\n'));
    assert.match(post, /\/two\|abc/);
    const pair = await raw(port, 'GET /p1 HTTP/1.1\r\nhost: svc\r\n\r\nGET /p2 HTTP/1.1\r\nhost: svc\r\n\r\n', (g) => g.includes('/p2|') && g.endsWith('0\r\n\r\n'));
    assert.ok(pair.indexOf('/p1|') >= 0 && pair.indexOf('/p1|') < pair.indexOf('/p2|'));
    assert.equal(heads.length, 4);
    for (const h of heads) assert.doesNotMatch(h, /^connection:/im, 'undici wrote the upstream request, not the lean engine');
    // The lean engine streams the chunked body on.
    assert.match(heads[1]!, /^transfer-encoding: chunked\r$/m);
    assert.match(heads[0]!, /^x-request-id: /m);
    // The lean pool reuses its one connection for the pipelined pair.
    assert.equal(upstreamConns, 1);
  });

  test('malformed requests get 400 and a closed connection', async () => {
    const got = await raw(port, 'GET / HTTP/1.1\r\nhost: svc\r\nbad header\r\n\r\n', () => false);
    assert.match(got, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(got, /connection: close/);
  });
});
