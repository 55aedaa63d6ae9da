/**
 * Websockets (HTTP/1.1 Upgrade) through the real proxy binary, against the
 * fake ADS server and a real node:http backend speaking RFC 6455: the 101
 * and its Sec-WebSocket-Accept come from the backend, frames flow both ways,
 * either side closes, a FIN is passed on as a FIN, the stream idle timeout
 * ends an idle tunnel, upgrades not enabled (HCM or route) get Envoy's 403,
 * a non-101 answer is an ordinary response, ordinary keep-alive requests
 * still work, and an upgraded upstream connection never serves another request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { closeFrame, connectWebSocket, encodeFrame, handshake, OP, serveEcho } from '../../helpers/websocket.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startProxy, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, ms, prefixRoute, routeConfig } from './xds-builders.js';

const LOG = '%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %BYTES_RECEIVED% %BYTES_SENT% %REQ(:PATH)%\n';
const WEBSOCKET = [{ upgradeType: 'websocket' }];

/** Sends `text` on a new connection and returns everything until the server closes it. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(text));
    let out = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`no close: ${out}`)); }, 3000);
    s.on('data', (c: Buffer) => { out += c.toString('latin1'); });
    s.on('close', () => { clearTimeout(t); resolve(out); });
    s.on('error', reject);
  });
}

describe('proxy: websocket upgrades', { timeout: 30_000 }, () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let backend: http.Server;
  let tcpBackend: net.Server;
  /** Remote ports of the proxy's connections as the backend saw them: ordinary requests, and upgrades. */
  const requestPorts: number[] = [];
  const upgradePorts: number[] = [];
  const ports = { ws: 0, plain: 0, idle: 0 };
  const agent = new Agent({ connections: 1 });

  before(async () => {
    backend = http.createServer((req, res) => {
      requestPorts.push(req.socket.remotePort!);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, upgrade: req.headers.upgrade ?? null, connection: req.headers.connection ?? null }));
    });
    backend.on('upgrade', (req: http.IncomingMessage, duplex, head: Buffer) => {
      const socket = duplex as Socket;
      upgradePorts.push(socket.remotePort!);
      if (req.url?.startsWith('/reject')) {
        socket.end('HTTP/1.1 426 Upgrade Required\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n\r\nnot for you');
        return;
      }
      serveEcho(req, socket, head, 'backend');
      // A FIN from the client: the backend finishes too (after anything it still had to send).
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    // A TCP echo server behind terminated CONNECT: echoes, and ends when the client does.
    tcpBackend = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('data', (c: Buffer) => s.write(c));
      s.on('end', () => s.end());
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => tcpBackend.listen(0, '127.0.0.1', r));
    const tcpPort = (tcpBackend.address() as AddressInfo).port;
    ads.setAll(TypeUrl.Cluster, [['backend', edsCluster('backend')], ['tcp', edsCluster('tcp')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['backend', endpoints('backend', [port])], ['tcp', endpoints('tcp', [tcpPort])]]);
    ads.setAll(TypeUrl.Listener, [
      ['ws', httpListener('ws', 'routes', 0, LOG, { upgradeConfigs: WEBSOCKET })],
      // No upgrade_configs: only a route can enable one.
      ['plain', httpListener('plain', 'routes', 0, LOG)],
      // istiod's shape: prefix routes only.
      ['idle', httpListener('idle', 'prefix-only', 0, LOG, { upgradeConfigs: WEBSOCKET, streamIdleTimeout: ms(400) })],
    ]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'all',
      domains: ['*'],
      routes: [
        {
          name: 'connect',
          match: { pathSpecifier: { case: 'connectMatcher', value: {} } },
          action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'tcp' }, upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] } },
        },
        { ...prefixRoute('/route-off', 'backend', { upgradeConfigs: [{ upgradeType: 'WebSocket', enabled: false }] }), name: 'route-off' },
        { ...prefixRoute('/route-on', 'backend', { upgradeConfigs: [{ upgradeType: 'websocket' }] }), name: 'route-on' },
        { ...prefixRoute('/', 'backend'), name: 'default' },
      ],
    }])], ['prefix-only', routeConfig('prefix-only', [{ name: 'all', domains: ['*'], routes: [{ ...prefixRoute('/', 'backend'), name: 'default' }] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    ports.ws = await proxy.listenerPort('ws');
    ports.plain = await proxy.listenerPort('plain');
    ports.idle = await proxy.listenerPort('idle');
  });

  after(async () => {
    await agent.close();
    await proxy?.stop();
    ads.stop();
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
    await new Promise((r) => tcpBackend?.close(r));
  });

  const logLines = (path: string) => proxy.stdout().split('\n').filter((l) => l.endsWith(` ${path}`));

  test('handshake: the backend\'s 101 and Sec-WebSocket-Accept reach the client; text, binary and ping frames flow both ways', async () => {
    const { ws, handshake: h } = await connectWebSocket('127.0.0.1', ports.ws, '/chat');
    assert.equal(h.headers['x-ws-server'], 'backend');
    assert.equal(h.headers.upgrade?.toLowerCase(), 'websocket');
    assert.equal(h.headers.connection?.toLowerCase(), 'upgrade');
    assert.ok(h.headers['x-envoy-upstream-service-time'] !== undefined, 'the 101 went through the router');
    ws.send(OP.text, 'hello');
    assert.deepEqual(await ws.next(), { opcode: OP.text, payload: Buffer.from('echo:hello') });
    // Larger than a socket buffer: back-pressure on both sides.
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    ws.send(OP.binary, big);
    const echoed = await ws.next(10_000);
    assert.equal(echoed.opcode, OP.binary);
    assert.ok(echoed.payload.equals(big));
    ws.send(OP.ping, 'p');
    assert.deepEqual(await ws.next(), { opcode: OP.pong, payload: Buffer.from('p') });
    // Client-initiated close: the backend answers with a close frame and ends the connection.
    ws.socket.write(closeFrame(1000, true));
    assert.equal((await ws.next()).opcode, OP.close);
    ws.socket.end();
    assert.ok(await ws.closedWithin(3000), 'both sides closed');
    // One access log line for the whole tunnel, with the bytes of both directions.
    const line = await eventually(() => logLines('/chat')[0], 3000, 'access log of /chat');
    const [code, flags, details, received, sent] = line.split(' ');
    assert.equal(code, '101');
    assert.equal(flags, '-');
    assert.equal(details, 'via_upstream');
    assert.ok(Number(received) > big.length && Number(sent) > big.length, line);
    const stats = (await proxy.admin('/stats')).body;
    assert.match(stats, /http\.ws\.downstream_cx_upgrades_total: 1\b/);
    assert.match(stats, /http\.ws\.downstream_cx_upgrades_active: 0\b/);
  });

  test('server-initiated close: the close frame and the FIN reach the client, and the client\'s close ends the tunnel', async () => {
    const { ws } = await connectWebSocket('127.0.0.1', ports.ws, '/server-close');
    ws.send(OP.text, 'bye');
    const f = await ws.next();
    assert.equal(f.opcode, OP.close);
    assert.equal(f.payload.readUInt16BE(0), 1000);
    await eventually(() => ws.ended, 3000, 'the backend\'s FIN passed on');
    ws.socket.end(closeFrame(1000, true));
    assert.ok(await ws.closedWithin(3000));
    await eventually(() => logLines('/server-close')[0]?.startsWith('101 - via_upstream'), 3000, 'access log of /server-close');
  });

  test('half-close: after the client\'s FIN, the backend\'s reply to its last message still arrives', async () => {
    const { ws } = await connectWebSocket('127.0.0.1', ports.ws, '/half');
    ws.socket.end(encodeFrame(OP.text, 'last', true));
    assert.deepEqual(await ws.next(), { opcode: OP.text, payload: Buffer.from('echo:last') });
    assert.ok(await ws.closedWithin(3000));
  });

  test('the stream idle timeout closes an idle tunnel (SI)', async () => {
    const { ws } = await connectWebSocket('127.0.0.1', ports.idle, '/idle');
    ws.send(OP.text, 'one');
    assert.equal((await ws.next()).payload.toString(), 'echo:one');
    const started = Date.now();
    assert.ok(await ws.closedWithin(3000), 'closed by the proxy');
    assert.ok(Date.now() - started >= 300, 'not before the idle timeout');
    const line = await eventually(() => logLines('/idle')[0], 3000, 'access log of /idle');
    assert.match(line, /^101 SI stream_idle_timeout /);
  });

  test('upgrade types not enabled get Envoy\'s 403 (upgrade_failed, connection closed); a route can enable or disable one', async () => {
    const refused = async (port: number, path: string, upgrade = 'websocket') => {
      const h = await handshake('127.0.0.1', port, path, { upgrade });
      assert.equal(h.status, 403, `${path} ${upgrade}: ${h.head}`);
      assert.equal(h.headers.connection, 'close');
      h.socket.resume();
      await new Promise((r) => h.socket.once('close', r));
    };
    await refused(ports.ws, '/other-type', 'h2c');
    await refused(ports.ws, '/route-off');
    await refused(ports.plain, '/plain-hcm');
    const on = await connectWebSocket('127.0.0.1', ports.plain, '/route-on');
    on.ws.send(OP.text, 'x');
    assert.equal((await on.ws.next()).payload.toString(), 'echo:x');
    on.ws.socket.destroy();
    for (const p of ['/other-type', '/route-off', '/plain-hcm']) {
      const line = await eventually(() => logLines(p)[0], 3000, `access log of ${p}`);
      assert.match(line, /^403 - upgrade_failed /);
    }
    const stats = (await proxy.admin('/stats')).body;
    assert.match(stats, /http\.ws\.downstream_rq_ws_on_non_ws_route: 2\b/);
    assert.match(stats, /http\.plain\.downstream_rq_ws_on_non_ws_route: 1\b/);
  });

  test('a non-101 answer to an upgrade is relayed as an ordinary response', async () => {
    const h = await handshake('127.0.0.1', ports.ws, '/reject');
    assert.equal(h.status, 426);
    h.socket.resume();
    let body = h.rest.toString();
    h.socket.on('data', (c: Buffer) => { body += c.toString(); });
    await eventually(() => body === 'not for you', 3000, 'the 426 body');
    assert.equal(h.headers['content-length'], '11');
    h.socket.destroy();
  });

  test('ordinary keep-alive requests on the same listener; Upgrade without Connection: upgrade is an ordinary request; an upgraded upstream connection never serves a request', async () => {
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const r = await request(`http://127.0.0.1:${ports.ws}${path}`, { dispatcher: agent, headers });
      return { status: r.statusCode, json: (await r.body.json()) as { path: string; upgrade: string | null } };
    };
    assert.equal((await get('/a')).status, 200);
    // A websocket on the cluster while ordinary requests go on beside it, and after it.
    const { ws } = await connectWebSocket('127.0.0.1', ports.ws, '/pooled');
    const wsPort = upgradePorts[upgradePorts.length - 1]!;
    const before = requestPorts.length;
    for (let i = 0; i < 5; i++) assert.equal((await get(`/during-${i}`)).status, 200);
    ws.socket.end(closeFrame(1000, true));
    assert.ok(await ws.closedWithin(3000));
    for (let i = 0; i < 5; i++) assert.equal((await get(`/after-${i}`)).status, 200);
    assert.ok(!requestPorts.slice(before).includes(wsPort), 'no request on the upgraded connection');
    // undici refuses to send Upgrade: a raw request.
    const raw = await rawExchange(ports.ws, 'GET /not-an-upgrade HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: close\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.match(raw, /"upgrade":null/, 'a lone Upgrade is hop-by-hop: dropped');
  });

  test('CONNECT terminated where a route configures it (connect_matcher, connect_config): 200, bytes both ways to the TCP upstream, FIN passed on', async () => {
    const s = net.connect({ host: '127.0.0.1', port: ports.plain });
    s.write('CONNECT tcp-target:7 HTTP/1.1\r\nhost: tcp-target:7\r\n\r\n');
    let got = '';
    s.on('data', (c: Buffer) => { got += c.toString('latin1'); });
    const closed = new Promise((r) => s.once('close', r));
    await eventually(() => got.includes('\r\n\r\n'), 3000, 'the CONNECT answer');
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(got, /content-length|transfer-encoding/i, 'a 2xx to CONNECT has no body framing');
    const head = got.length;
    s.write('ping');
    await eventually(() => got.slice(head) === 'ping', 3000, 'the echo through the tunnel');
    s.end('pong');
    await closed;
    assert.equal(got.slice(head), 'pingpong', 'bytes sent with the FIN still echoed');
    const line = await eventually(() => proxy.stdout().split('\n').find((l) => l.startsWith('200 - via_upstream 8 8 ')), 3000, 'access log of the CONNECT');
    assert.ok(line);
  });

  test('with prefix routes only (istiod\'s routes) a CONNECT matches no route: 404, as in Envoy', async () => {
    const raw = await rawExchange(ports.idle, 'CONNECT tcp-target:7 HTTP/1.1\r\nhost: tcp-target:7\r\nconnection: close\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 404 /);
  });
});
