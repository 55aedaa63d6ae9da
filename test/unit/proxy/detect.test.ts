import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { classify, detect } from '../../../src/proxy/listener/detect.js';
import { compileListener } from '../../../src/proxy/listener/listener-plan.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';

/** Captures the real ClientHello Node's TLS client sends, from a plain TCP server. */
async function clientHello(servername: string, alpn: string[]): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const c = tls.connect({ port, host: '127.0.0.1', servername, ALPNProtocols: alpn, rejectUnauthorized: false });
  c.on('error', () => undefined);
  const hello = await got;
  c.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return hello;
}

describe('protocol detection', () => {
  test('TLS ClientHello: SNI and ALPN', async () => {
    const hello = await clientHello('reviews.default.svc.cluster.local', ['istio', 'h2']);
    const d = classify(hello);
    assert.notEqual(d, 'more');
    if (d === 'more') return;
    assert.equal(d.transport, 'tls');
    assert.equal(d.serverName, 'reviews.default.svc.cluster.local');
    assert.deepEqual(d.applicationProtocols, ['istio', 'h2']);
    assert.equal(classify(hello.subarray(0, 20)), 'more');
  });

  test('HTTP/2 preface and HTTP/1.1 request line', () => {
    const h2 = classify(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    assert.deepEqual(h2 !== 'more' && h2.applicationProtocols, ['h2c']);
    assert.equal(classify(Buffer.from('PRI * HTTP/2')), 'more');
    const h1 = classify(Buffer.from('GET /index.html HTTP/1.1\r\nHost: x\r\n'));
    assert.deepEqual(h1 !== 'more' && h1.applicationProtocols, ['http/1.1']);
    // http_inspector's name for HTTP/1.0: istiod leaves it out of its chains unless HTTP/1.0 is enabled.
    const h10 = classify(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    assert.deepEqual(h10 !== 'more' && [h10.applicationProtocols, h10.http], [['http/1.0'], 'h1']);
    assert.equal(classify(Buffer.from('GET /ind')), 'more');
  });

  test('anything else is raw TCP', () => {
    for (const s of ['\x00\x01binary', 'hello world\n', 'get / HTTP/1.1\r\n']) {
      const d = classify(Buffer.from(s, 'latin1'));
      assert.ok(d !== 'more' && d.transport === 'raw_buffer' && d.applicationProtocols.length === 0, s);
    }
  });

  describe('on a socket', () => {
    let server: net.Server;
    let port = 0;
    before(async () => {
      server = net.createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as net.AddressInfo).port;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    test('bytes read are pushed back for the next reader', async () => {
      const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
      const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
      const s = await accepted;
      const d = await detect(s, 1000);
      assert.equal(d?.http, 'h1');
      // detect() leaves the socket paused: the next owner decides when data flows.
      const first = await new Promise<Buffer>((r) => { s.once('data', r); s.resume(); });
      assert.match(first.toString(), /^GET \/ HTTP\/1\.1/);
      c.destroy();
      s.destroy();
    });

    test('a silent client (server-first protocol) is raw TCP after the timeout', async () => {
      const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
      const c = net.connect(port, '127.0.0.1');
      const s = await accepted;
      const t0 = Date.now();
      const d = await detect(s, 50);
      assert.equal(d?.transport, 'raw_buffer');
      assert.ok(Date.now() - t0 >= 40);
      c.destroy();
      s.destroy();
    });

    test('timeout 0 is no deadline (Envoy\'s listener_filters_timeout 0s): a client that speaks after 300 ms is still classified', async () => {
      const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
      const c = net.connect(port, '127.0.0.1', () => setTimeout(() => c.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 300));
      const s = await accepted;
      const d = await detect(s, 0);
      assert.equal(d?.http, 'h2');
      c.destroy();
      s.destroy();
    });

    test('a client that ends before its first byte is nothing to serve (issue 12: such connections stayed open until the idle timeout)', async () => {
      const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
      const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => c.end());
      const s = await accepted;
      assert.equal(await detect(s, 1000), undefined);
      c.destroy();
      s.destroy();
    });
  });
});

test('listener_filters_timeout: explicit 0s is no deadline (as Envoy and istiod mean it), a value is kept, unset is Trellis\'s 100 ms', () => {
  const hcm = create(HttpConnectionManagerSchema, { statPrefix: 'x', routeSpecifier: { case: 'rds', value: { routeConfigName: 'r', configSource: { configSourceSpecifier: { case: 'ads', value: {} } } } } });
  const plan = (timeout?: { seconds: bigint; nanos: number }) => {
    const r = compileListener(create(ListenerSchema, {
      name: 'l',
      address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 0 } } } },
      filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } }] }],
      ...(timeout ? { listenerFiltersTimeout: timeout } : {}),
    }));
    assert.ok(r.ok, r.ok ? '' : r.errors.join());
    return r.value;
  };
  assert.equal(plan({ seconds: 0n, nanos: 0 }).detectTimeoutMs, 0);
  assert.equal(plan({ seconds: 2n, nanos: 0 }).detectTimeoutMs, 2000);
  assert.equal(plan().detectTimeoutMs, 100);
  assert.equal(plan().needsDetection, true, 'an AUTO codec needs the first bytes');
});
