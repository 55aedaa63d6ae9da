/**
 * One drain for every protocol (POST /drain_listeners, Envoy's): the listener
 * stops accepting; an idle HTTP/1.1 keep-alive connection is closed at once, a
 * busy one finishes its response with "connection: close" and is closed
 * after it; an HTTP/2 connection gets GOAWAY while its open stream finishes.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, sleep, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';

/** A raw HTTP/1.1 connection: what came back and whether the proxy closed it. */
function rawConnection(port: number): { socket: net.Socket; data: () => string; closed: () => boolean } {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  let closed = false;
  socket.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  socket.on('close', () => { closed = true; });
  socket.on('error', () => undefined);
  return { socket, data: () => data, closed: () => closed };
}

describe('proxy: draining HTTP/1.1 and HTTP/2 connections', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let backend: Backend;
  let port = 0;

  before(async () => {
    backend = await startBackend((req, res) => {
      req.resume();
      if (req.url !== '/slow') return void res.end('quick');
      const t = setTimeout(() => res.end('finished'), 500);
      res.on('close', () => clearTimeout(t));
    });
    ads.setAll(TypeUrl.Cluster, [['app', edsCluster('app')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['app', endpoints('app', [backend.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'app')] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port, ['--drain-seconds', '5']);
    await proxy.ready();
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await backend?.close();
  });

  test('idle HTTP/1.1 closes now, busy HTTP/1.1 after its response with connection: close, HTTP/2 gets GOAWAY and its stream finishes', async () => {
    // An idle keep-alive connection (one request done).
    const idle = rawConnection(port);
    idle.socket.write('GET /quick HTTP/1.1\r\nhost: x\r\n\r\n');
    await eventually(() => idle.data().includes('quick'), 3000, 'first response');
    // A busy one: its request is at the backend.
    const busy = rawConnection(port);
    busy.socket.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
    // An HTTP/2 connection with a stream in flight.
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    let goaway = false;
    session.on('goaway', () => { goaway = true; });
    const stream = session.request({ ':path': '/slow', ':method': 'GET' });
    let h2body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => { h2body += c; });
    const h2status = new Promise<number>((r) => stream.once('response', (h) => r(Number(h[':status']))));
    const h2done = new Promise<void>((r) => stream.once('close', () => r()));
    await sleep(150);

    assert.equal((await proxy.admin('/drain_listeners', 'POST')).status, 200);

    await eventually(() => idle.closed(), 2000, 'the idle HTTP/1.1 connection closed at once');
    await eventually(() => goaway, 2000, 'GOAWAY on the HTTP/2 connection');
    await eventually(() => busy.closed(), 3000, 'the busy HTTP/1.1 connection closed after its response');
    assert.match(busy.data(), /^HTTP\/1\.1 200 /);
    assert.match(busy.data(), /\r\nconnection: close\r\n/i);
    assert.match(busy.data(), /finished$/);
    await h2done;
    assert.equal(await h2status, 200);
    assert.equal(h2body, 'finished');
    session.close();
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(true));
    });
    assert.ok(refused, 'the listener stopped accepting');
  });
});
