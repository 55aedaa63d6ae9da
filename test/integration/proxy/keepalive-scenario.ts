/**
 * Run inside a fresh network namespace by keepalive.test.ts (`unshare -n`):
 * a cluster with the upstream_connection_options the control plane makes of
 * a DestinationRule's tcpKeepalive {time: 1s, interval: 1s, probes: 2}.
 * After one request the proxy's pooled upstream connection shows a
 * keepalive timer in `ss -o`. Then iptables (in this namespace only) drops
 * everything the backend sends: the probes go unanswered and the kernel
 * closes the proxy's side about time + interval·probes = 3 s later — with
 * the system's interval (75 s) and probe count (9) it would stay for
 * minutes. Prints one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { request } from 'undici';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { applyTcpKeepalive } from '../../../src/controlplane/translate/cluster-policy.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy } from './harness.js';
import { endpoints, httpListener, ms, prefixRoute, routeConfig } from './xds-builders.js';

/** The proxy's side of its connections to the backend: established, peer port = the backend's, with timers. */
function upstreamSockets(backendPort: number): string[] {
  const out = execFileSync('ss', ['-tnoH', 'state', 'established', `( dport = :${backendPort} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim() !== '');
}

async function main(): Promise<void> {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const web = await echoBackend('web');
  const cluster = create(ClusterSchema, {
    name: 'web',
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
    connectTimeout: ms(1000),
  });
  applyTcpKeepalive(cluster, { time: '1s', interval: '1s', probes: 2 });
  const ads = new FakeAdsServer();
  ads.setAll(TypeUrl.Cluster, [['web', anyPack(ClusterSchema, cluster)]]);
  ads.setAll(TypeUrl.ClusterLoadAssignment, [['web', endpoints('web', [web.port])]]);
  ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
  ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'web')] }])]]);
  await ads.start();
  const proxy = await startProxy(ads.port);
  try {
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 5000, 'ready');
    const port = await proxy.listenerPort('http');
    const r = await request(`http://127.0.0.1:${port}/hello`);
    const status = r.statusCode;
    await r.body.text();
    const before = upstreamSockets(web.port);
    execFileSync('iptables', ['-A', 'INPUT', '-p', 'tcp', '--sport', String(web.port), '-j', 'DROP']);
    const dropped = performance.now();
    const gone = await eventually(() => upstreamSockets(web.port).length === 0 && performance.now(), 20_000, 'the upstream connection to be closed by keepalive');
    console.log(JSON.stringify({
      status,
      connections: before.length,
      keepaliveTimer: before.every((l) => /timer:\(keepalive,/.test(l)),
      closedAfterMs: Math.round(gone - dropped),
    }));
  } finally {
    await proxy.stop();
    ads.stop();
    await web.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
