/**
 * use_original_dst: a connection accepted by a virtual listener is handed to
 * the listener owning its original destination (here the socket's own address,
 * as no iptables redirect is involved), Istio's virtualOutbound → 0.0.0.0_PORT.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { request } from 'undici';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig, tcpListener } from './xds-builders.js';
import { fromBinary } from '@bufbuild/protobuf';
import { freePort } from '../../helpers/ports.js';

/** Re-addresses a built listener and sets its use_original_dst / bind_to_port flags. */
function tweak(any: ReturnType<typeof httpListener>, address: string, port: number, flags: { useOriginalDst?: boolean; bindToPort?: boolean }) {
  const l = fromBinary(ListenerSchema, any.value);
  l.address = create(ListenerSchema, { address: { address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } } } }).address;
  l.useOriginalDst = flags.useOriginalDst;
  l.bindToPort = flags.bindToPort;
  return anyPack(ListenerSchema, l);
}

describe('proxy: use_original_dst hand-off', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let web: Backend;
  let passthrough: net.Server;
  let port = 0;
  const sockets = new Set<net.Socket>();

  before(async () => {
    web = await echoBackend('web');
    passthrough = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.end('passthrough\n');
    });
    await new Promise<void>((r) => passthrough.listen(0, '127.0.0.1', r));
    port = await freePort();
    ads.setAll(TypeUrl.Cluster, [['web', edsCluster('web')], ['PassthroughCluster', edsCluster('PassthroughCluster')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [
      ['web', endpoints('web', [web.port])],
      ['PassthroughCluster', endpoints('PassthroughCluster', [(passthrough.address() as net.AddressInfo).port])],
    ]);
    ads.setAll(TypeUrl.Listener, [
      ['virtualOutbound', tweak(tcpListener('virtualOutbound', 'PassthroughCluster'), '127.0.0.1', port, { useOriginalDst: true })],
      [`0.0.0.0_${port}`, tweak(httpListener(`0.0.0.0_${port}`, 'web-routes'), '0.0.0.0', port, { bindToPort: false })],
    ]);
    ads.setAll(TypeUrl.RouteConfiguration, [['web-routes', routeConfig('web-routes', [{ name: 'web', domains: ['*'], routes: [prefixRoute('/', 'web')] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    await proxy.listenerPort('virtualOutbound');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await web?.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => passthrough.close(() => r()));
  });

  test('the connection is served by the 0.0.0.0_PORT listener, not the virtual one', async () => {
    const r = await request(`http://127.0.0.1:${port}/x`);
    assert.equal(r.statusCode, 200);
    assert.equal(((await r.body.json()) as { name: string }).name, 'web');
  });

  test('only bound listeners appear in /listeners', async () => {
    const body = (await proxy.admin('/listeners')).body;
    assert.equal(body, `virtualOutbound::127.0.0.1:${port}\n`);
  });

  test('without the owning listener the virtual listener\'s own chain (passthrough) applies', async () => {
    ads.remove(TypeUrl.Listener, `0.0.0.0_${port}`);
    ads.push();
    const reply = await eventually(async () => {
      const text = await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
        let buf = '';
        s.on('data', (c) => { buf += c.toString(); });
        s.on('close', () => resolve(buf));
        s.on('error', reject);
        s.setTimeout(2000, () => s.destroy());
      });
      return text === 'passthrough\n' ? text : undefined;
    }, 5000, 'passthrough reply');
    assert.equal(reply, 'passthrough\n');
  });
});

describe('proxy: without SO_ORIGINAL_DST, capture listeners are refused', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let web: Backend;

  before(async () => {
    web = await echoBackend('web');
    const capturePort = await freePort();
    ads.setAll(TypeUrl.Cluster, [['web', edsCluster('web')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['web', endpoints('web', [web.port])]]);
    ads.setAll(TypeUrl.Listener, [
      ['virtualOutbound', tweak(tcpListener('virtualOutbound', 'web'), '127.0.0.1', capturePort, { useOriginalDst: true })],
      ['plain', httpListener('plain', 'web-routes')],
    ]);
    ads.setAll(TypeUrl.RouteConfiguration, [['web-routes', routeConfig('web-routes', [{ name: 'web', domains: ['*'], routes: [prefixRoute('/', 'web')] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port, [], { TRELLIS_NATIVE_DISABLE: '1' });
    await proxy.ready();
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await web?.close();
  });

  test('says so at start and per refused listener; other listeners serve', async () => {
    const port = await proxy.listenerPort('plain');
    const r = await request(`http://127.0.0.1:${port}/`);
    assert.equal(r.statusCode, 200);
    await r.body.text();
    assert.ok(!(await proxy.admin('/listeners')).body.includes('virtualOutbound'), 'capture listener not bound');
    assert.match(proxy.stderr(), /transparent capture unavailable.*TRELLIS_NATIVE_DISABLE/);
    assert.match(proxy.stderr(), /refusing capture listener.*virtualOutbound/);
  });
});
