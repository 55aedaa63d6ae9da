/**
 * The proxy's xDS client end to end: NACK with a precise error_detail keeping
 * the last good config, config changes that do not drop established
 * keep-alive connections, and a control plane restart (serving continues,
 * the stream comes back). Run over Delta and over State-of-the-World.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'undici';
import { createServer } from 'node:net';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, rawCluster, routeConfig } from './xds-builders.js';

for (const protocol of ['delta', 'sotw'] as const) {
  describe(`proxy xDS behaviour (${protocol})`, () => {
    let ads = new FakeAdsServer();
    const backends: Backend[] = [];
    let proxy: RunningProxy;
    let port = 0;
    let client: Client;
    let connects = 0;
    let disconnects = 0;

    const get = async (path: string) => {
      const r = await client.request({ path, method: 'GET' });
      const text = await r.body.text();
      return { status: r.statusCode, name: r.statusCode === 200 ? (JSON.parse(text) as { name: string }).name : text };
    };

    before(async () => {
      const [a, b] = await Promise.all([echoBackend('a'), echoBackend('b')]);
      backends.push(a, b);
      ads.setAll(TypeUrl.Cluster, [['a', edsCluster('a')], ['b', edsCluster('b')]]);
      ads.setAll(TypeUrl.ClusterLoadAssignment, [['a', endpoints('a', [a.port])], ['b', endpoints('b', [b.port])]]);
      ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
      ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'a')] }])]]);
      await ads.start();
      proxy = await startProxy(ads.port, ['--xds-protocol', protocol]);
      await eventually(async () => (await proxy.admin('/ready')).status === 200, 5000, 'proxy ready');
      port = await proxy.listenerPort('http');
      client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 });
      client.on('connect', () => connects++);
      client.on('disconnect', () => disconnects++);
    });

    after(async () => {
      await client?.close();
      await proxy?.stop();
      ads.stop();
      await Promise.all(backends.map((b) => b.close()));
    });

    test('the proxy announces its node id and ACKs what it applied', async () => {
      const first = await ads.waitFor((r) => r.nodeId !== undefined);
      assert.equal(first.nodeId, 'sidecar~127.0.0.1~test-pod.default~default.svc.cluster.local');
      await ads.waitFor((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.nonce !== '' && r.errorDetail === undefined);
      assert.equal((await get('/')).name, 'a');
    });

    test('a route change applies without dropping the keep-alive connection', async () => {
      assert.equal((await get('/before')).name, 'a');
      ads.set(TypeUrl.RouteConfiguration, 'routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'b')] }]));
      ads.push();
      await eventually(async () => (await get('/after')).name === 'b', 5000, 'route to b');
      assert.equal(connects, 1);
      assert.equal(disconnects, 0);
    });

    test('an invalid regex is NACKed with its field path; the last good routes stay', async () => {
      const from = ads.requests.length;
      ads.set(TypeUrl.RouteConfiguration, 'routes', routeConfig('routes', [{
        name: 'all', domains: ['*'],
        routes: [{ match: { pathSpecifier: { case: 'safeRegex', value: { regex: '/items/(' } } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'a' } } } }],
      }]));
      ads.push();
      const nack = await ads.waitFor((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.errorDetail !== undefined, 5000, from);
      assert.match(nack.errorDetail!, /^RDS routes: virtualHosts\[0\]\.routes\[0\]\.match\.safeRegex\.regex: invalid regex "\/items\/\(":/);
      assert.equal((await get('/still')).name, 'b');
      const dump = JSON.parse((await proxy.admin('/config_dump')).body) as { configs: Array<{ '@type': string; dynamicRouteConfigs?: Array<{ errorState?: { details: string } }> }> };
      const routes = dump.configs.find((c) => c['@type'].endsWith('RoutesConfigDump'));
      assert.ok(routes?.dynamicRouteConfigs?.some((r) => r.errorState?.details.includes('invalid regex')));
    });

    test('an unknown cluster type is NACKed; existing clusters keep serving', async () => {
      const from = ads.requests.length;
      ads.set(TypeUrl.Cluster, 'dns', rawCluster({ name: 'dns', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STRICT_DNS } }));
      ads.push();
      const nack = await ads.waitFor((r) => r.typeUrl === TypeUrl.Cluster && r.errorDetail !== undefined, 5000, from);
      assert.match(nack.errorDetail!, /CDS dns: type: unknown cluster type STRICT_DNS/);
      ads.remove(TypeUrl.Cluster, 'dns');
      assert.equal((await get('/x')).status, 200);
    });

    test('a listener that cannot bind NACKs the update with the reason; the listeners that bound keep serving', async () => {
      const taken = createServer();
      await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
      const busy = (taken.address() as { port: number }).port;
      const from = ads.requests.length;
      let afterRemoval = 0;
      try {
        ads.set(TypeUrl.Listener, 'busy', httpListener('busy', 'routes', busy));
        ads.push();
        const nack = await ads.waitFor((r) => r.typeUrl === TypeUrl.Listener && r.errorDetail !== undefined, 5000, from);
        assert.match(nack.errorDetail!, new RegExp(`^LDS busy: cannot bind '127\\.0\\.0\\.1:${busy}': .*EADDRINUSE`));
        assert.equal((await get('/still-here')).status, 200);
        assert.match((await proxy.admin('/stats')).body, /listener_manager\.lds\.update_rejected: [1-9]/);
      } finally {
        afterRemoval = ads.requests.length;
        ads.remove(TypeUrl.Listener, 'busy');
        ads.push();
        taken.close();
      }
      // Without the listener the next update is ACKed again.
      await ads.waitFor((r) => r.typeUrl === TypeUrl.Listener && r.errorDetail === undefined && r.nonce !== '', 5000, afterRemoval);
    });

    test('control plane restart: the proxy keeps serving, then reconnects and takes new config', async () => {
      const adsPort = ads.port;
      ads.stop();
      await eventually(async () => (await proxy.admin('/stats')).body.includes('control_plane.connected_state: 0'), 5000, 'disconnected');
      assert.equal((await get('/while-down')).status, 200);
      const restarted = new FakeAdsServer();
      restarted.setAll(TypeUrl.Cluster, [['a', edsCluster('a')], ['b', edsCluster('b')]]);
      restarted.setAll(TypeUrl.ClusterLoadAssignment, [['a', endpoints('a', [backends[0].port])], ['b', endpoints('b', [backends[1].port])]]);
      restarted.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
      restarted.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/', 'a')] }])]]);
      ads = restarted;
      await restarted.start(adsPort);
      await eventually(() => restarted.streams > 0, 15_000, 'reconnect');
      await eventually(async () => (await get('/back')).name === 'a', 5000, 'new config applied');
      assert.equal(disconnects, 0);
    });
  });
}
