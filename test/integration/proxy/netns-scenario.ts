/**
 * Run inside a fresh network namespace by netns.test.ts (`unshare -n`): real
 * iptables REDIRECT to virtualOutbound, SO_ORIGINAL_DST, and the hand-off to
 * the listener owning the original destination. Prints one JSON line.
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { create, fromBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { request } from 'undici';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig, tcpListener } from './xds-builders.js';

const SERVICE_IP = '10.96.0.77';

function place(any: ReturnType<typeof httpListener>, address: string, port: number, flags: { useOriginalDst?: boolean; bindToPort?: boolean }) {
  const l = fromBinary(ListenerSchema, any.value);
  l.address = create(ListenerSchema, { address: { address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } } } }).address;
  l.useOriginalDst = flags.useOriginalDst;
  l.bindToPort = flags.bindToPort;
  return anyPack(ListenerSchema, l);
}

async function main(): Promise<void> {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  execFileSync('ip', ['addr', 'add', `${SERVICE_IP}/32`, 'dev', 'lo']);
  const web = await echoBackend('web');
  const tcp = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const ads = new FakeAdsServer();
  const webCluster = 'outbound|80||web.default.svc.cluster.local';
  const dbCluster = 'outbound|5432||db.default.svc.cluster.local';
  ads.setAll(TypeUrl.Cluster, [[webCluster, edsCluster(webCluster)], [dbCluster, edsCluster(dbCluster)]]);
  ads.setAll(TypeUrl.ClusterLoadAssignment, [
    [webCluster, endpoints(webCluster, [web.port])],
    [dbCluster, endpoints(dbCluster, [(tcp.address() as net.AddressInfo).port])],
  ]);
  ads.setAll(TypeUrl.Listener, [
    ['virtualOutbound', place(tcpListener('virtualOutbound', 'BlackHole'), '0.0.0.0', 15001, { useOriginalDst: true })],
    ['0.0.0.0_80', place(httpListener('0.0.0.0_80', '80'), '0.0.0.0', 80, { bindToPort: false })],
    [`${SERVICE_IP}_5432`, place(tcpListener(`${SERVICE_IP}_5432`, dbCluster), SERVICE_IP, 5432, { bindToPort: false })],
  ]);
  ads.setAll(TypeUrl.RouteConfiguration, [['80', routeConfig('80', [{ name: 'web', domains: ['*'], routes: [prefixRoute('/', webCluster)] }])]]);
  await ads.start();
  const proxy = await startProxy(ads.port);
  try {
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 5000, 'ready');
    await proxy.listenerPort('virtualOutbound');
    for (const port of ['80', '5432']) {
      execFileSync('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', SERVICE_IP, '--dport', port, '-j', 'REDIRECT', '--to-ports', '15001']);
    }
    const r = await request(`http://${SERVICE_IP}/hello`);
    const http = (await r.body.json()) as { name: string; headers: Record<string, string> };
    const echoed = await new Promise<string>((resolve, reject) => {
      const s = net.connect(5432, SERVICE_IP, () => s.end('ping'));
      let buf = '';
      s.on('data', (c) => { buf += c.toString(); });
      s.on('close', () => resolve(buf));
      s.on('error', reject);
    });
    const stats = (await proxy.admin('/stats')).body;
    process.stdout.write(JSON.stringify({ status: r.statusCode, backend: http.name, host: http.headers.host, echoed, listenerCx: /listener\.0\.0\.0\.0_15001\.downstream_cx_total: (\d+)/.exec(stats)?.[1] }) + '\n');
  } finally {
    await proxy.stop();
    ads.stop();
    await web.close();
    tcp.close();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
