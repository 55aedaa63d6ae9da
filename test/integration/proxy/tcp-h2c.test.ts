/** TCP proxying (half-close honoured, byte counts in metrics) and h2c downstream clients. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig, tcpListener } from './xds-builders.js';

describe('proxy: TCP and h2c', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let http: Backend;
  let tcpServer: net.Server;
  let tcpPort = 0;
  let httpPort = 0;

  before(async () => {
    // Replies only after the client half-closed: proves FIN is passed on while the reverse direction stays open.
    tcpServer = net.createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.on('data', (c) => { got += c.toString(); });
      s.on('end', () => s.end(`echo:${got}`));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => tcpServer.listen(0, '127.0.0.1', r));
    http = await echoBackend('h');
    const tport = (tcpServer.address() as net.AddressInfo).port;
    ads.setAll(TypeUrl.Cluster, [['tcp', edsCluster('outbound|9000||echo.default.svc.cluster.local')], ['h', edsCluster('h')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [
      ['outbound|9000||echo.default.svc.cluster.local', endpoints('outbound|9000||echo.default.svc.cluster.local', [tport])],
      ['h', endpoints('h', [http.port])],
    ]);
    ads.setAll(TypeUrl.Listener, [
      ['tcp', tcpListener('tcp', 'outbound|9000||echo.default.svc.cluster.local', 0, '')],
      ['http', httpListener('http', 'routes')],
    ]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'h')] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    tcpPort = await proxy.listenerPort('tcp');
    httpPort = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await http?.close();
    await new Promise<void>((r) => tcpServer.close(() => r()));
  });

  test('tcp proxy passes a half-close through and returns the reply', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ port: tcpPort, host: '127.0.0.1', allowHalfOpen: true }, () => s.end('hello'));
      let buf = '';
      s.on('data', (c) => { buf += c.toString(); });
      s.on('end', () => resolve(buf));
      s.on('error', reject);
      s.setTimeout(3000, () => { s.destroy(); reject(new Error('no reply')); });
    });
    assert.equal(reply, 'echo:hello');
    const prom = await eventually(async () => {
      const body = (await proxy.admin('/stats/prometheus')).body;
      return /istio_tcp_connections_closed_total\{[^}]*destination_service="echo.default.svc.cluster.local"\} 1/.test(body) ? body : undefined;
    }, 3000, 'tcp metrics');
    assert.match(prom, /istio_tcp_received_bytes_total\{[^}]*\} 5\b/);
    assert.match(prom, /istio_tcp_sent_bytes_total\{[^}]*\} 10\b/);
    // Istio's default format, written when the connection closes: no HTTP fields, the bytes, the upstream.
    const line = await eventually(() => proxy.stdout().split('\n').find((l) => l.includes('outbound|9000||echo.default.svc.cluster.local')), 3000, 'tcp access log');
    assert.match(line, /^\[[^\]]+\] "- - -" 0 - - - "-" 5 10 \d+ - "-" "-" "-" "-" "127\.0\.0\.1:\d+" outbound\|9000\|\|echo/);
  });

  test('an h2c client is detected from the preface and routed', async () => {
    const session = http2.connect(`http://127.0.0.1:${httpPort}`);
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/h2', ':method': 'GET', ':authority': 'svc.local' });
        let status = 0;
        let body = '';
        req.on('response', (h) => { status = Number(h[':status']); });
        req.on('data', (c: Buffer) => { body += c.toString(); });
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
      const seen = JSON.parse(body) as { name: string; headers: Record<string, string> };
      assert.equal(seen.name, 'h');
      assert.equal(seen.headers.host, 'svc.local');
    } finally {
      session.close();
    }
  });
});
