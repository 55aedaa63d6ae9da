/**
 * The proxy's xDS client end to end: NACK with a precise error_detail keeping
 * the last good config, config changes that do not drop established
 * keep-alive connections, and a control plane restart (serving continues,
 * the stream comes back). Run over Delta and over State-of-the-World.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, request } from 'undici';
import { createServer } from 'node:net';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, rawCluster, routeConfig } from './xds-builders.js';

const rawListener = (init: { name: string }) => anyPack(ListenerSchema, create(ListenerSchema, init));

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
      await proxy.ready();
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

    test('one invalid cluster among valid ones: the valid ones apply, the invalid one keeps its last good version, the NACK names it', async () => {
      const accepted = ads.requests.filter((r) => r.typeUrl === TypeUrl.Cluster && r.nonce !== '' && r.errorDetail === undefined).at(-1)!;
      const from = ads.requests.length;
      const routes = (extra: ReturnType<typeof prefixRoute>[]) => routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [...extra, prefixRoute('/', 'b')] }]);
      // 'a' changes to a cluster type the proxy does not have; 'c' is new and valid.
      ads.set(TypeUrl.Cluster, 'a', rawCluster({ name: 'a', clusterDiscoveryType: { case: 'clusterType', value: { name: 'envoy.clusters.aggregate' } } }));
      ads.set(TypeUrl.Cluster, 'c', edsCluster('c'));
      ads.set(TypeUrl.ClusterLoadAssignment, 'c', endpoints('c', [backends[1].port]));
      ads.set(TypeUrl.RouteConfiguration, 'routes', routes([prefixRoute('/c', 'c'), prefixRoute('/a', 'a')]));
      ads.push();
      try {
        const nack = await ads.waitFor((r) => r.typeUrl === TypeUrl.Cluster && r.errorDetail !== undefined, 5000, from);
        assert.equal(nack.errorDetail, 'CDS a: clusterDiscoveryType.clusterType: unknown cluster type "envoy.clusters.aggregate"');
        // As Envoy: a NACK repeats the version last accepted, though the valid part of the response was applied.
        assert.equal(nack.versionInfo, accepted.versionInfo);
        await eventually(async () => (await get('/c/new')).name === 'b', 5000, 'the new valid cluster c serves');
        assert.deepEqual(await get('/a/kept'), { status: 200, name: 'a' });
        assert.match((await proxy.admin('/stats')).body, /cluster_manager\.cds\.update_rejected: [1-9]/);
      } finally {
        ads.set(TypeUrl.Cluster, 'a', edsCluster('a'));
        ads.remove(TypeUrl.Cluster, 'c');
        ads.set(TypeUrl.RouteConfiguration, 'routes', routes([]));
        ads.push();
      }
      await eventually(async () => (await get('/c/gone')).name === 'b' && !(await proxy.admin('/clusters')).body.includes('c::'), 5000, 'c removed');
    });

    test('one invalid listener among valid ones: the valid new listener binds, the NACK names the invalid one', async () => {
      const from = ads.requests.length;
      ads.set(TypeUrl.Listener, 'bad', rawListener({ name: 'bad' }));
      ads.set(TypeUrl.Listener, 'http2', httpListener('http2', 'routes'));
      ads.push();
      try {
        const nack = await ads.waitFor((r) => r.typeUrl === TypeUrl.Listener && r.errorDetail !== undefined, 5000, from);
        assert.match(nack.errorDetail!, /^LDS bad: address\.socketAddress: missing/);
        const p2 = await proxy.listenerPort('http2');
        const r = await request(`http://127.0.0.1:${p2}/via-http2`);
        assert.equal(r.statusCode, 200);
        await r.body.text();
      } finally {
        ads.remove(TypeUrl.Listener, 'bad');
        ads.remove(TypeUrl.Listener, 'http2');
        ads.push();
      }
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
