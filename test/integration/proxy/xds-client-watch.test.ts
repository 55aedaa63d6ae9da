/** The ADS client in process against the fake server: watchers' three callbacks, the LDS → RDS walk, readiness. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { XdsClient } from '../../../src/proxy/xds-client/ads-client.js';
import { proxyTypes, routeType } from '../../../src/proxy/xds-client/proxy-types.js';
import { buildNode } from '../../../src/proxy/xds-client/node-info.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';
import { withUpstreamMtls } from './tls-builders.js';

for (const protocol of ['delta', 'sotw'] as const) {
  describe(`xds client watchers (${protocol})`, () => {
    const ads = new FakeAdsServer();
    let client: XdsClient;
    const events: string[] = [];

    before(async () => {
      ads.setAll(TypeUrl.Listener, [['l', httpListener('l', 'r1')]]);
      ads.setAll(TypeUrl.RouteConfiguration, [['r1', routeConfig('r1', [{ name: 'v', domains: ['*'], routes: [prefixRoute('/', 'c')] }])]]);
      await ads.start();
      client = new XdsClient({ address: `127.0.0.1:${ads.port}`, node: buildNode('test~1.1.1.1~p.ns~ns.svc.cluster.local', {}), protocol, types: proxyTypes, handlers: [] });
      client.watch(routeType, 'r1', {
        onChanged: (t) => events.push(`changed:${t.name}`),
        onError: (d) => events.push(`error:${d.split(':')[0]}`),
        onDoesNotExist: () => events.push('gone'),
      });
      client.start();
    });

    after(() => {
      client.close();
      ads.stop();
    });

    test('RDS is subscribed through the listener and the watcher sees it', async () => {
      await eventually(() => events.includes('changed:r1'), 5000, 'r1 delivered');
    });

    test('a rejected update reaches the watcher as an error', async () => {
      ads.set(TypeUrl.RouteConfiguration, 'r1', routeConfig('r1', [{ name: 'v', domains: [], routes: [] }]));
      ads.push();
      await eventually(() => events.includes('error:RDS r1'), 5000, 'error event');
    });

    test('dropping the reference unsubscribes and the watcher hears "does not exist"', async () => {
      ads.setAll(TypeUrl.Listener, [['l', httpListener('l', 'r2')]]);
      ads.push();
      await eventually(() => events.includes('gone'), 5000, 'gone event');
      assert.equal(client.resources(TypeUrl.RouteConfiguration).has('r1'), false);
    });
  });
}

describe('xds client readiness (initial_fetch_timeout)', () => {
  const ads = new FakeAdsServer();
  let client: XdsClient;

  before(async () => {
    ads.setAll(TypeUrl.Listener, [['l', httpListener('l', 'r1')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['r1', routeConfig('r1', [{ name: 'v', domains: ['*'], routes: [prefixRoute('/', 'c')] }])]]);
    ads.setAll(TypeUrl.Cluster, [['c', withUpstreamMtls(edsCluster('c'))]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['c', endpoints('c', [1])]]);
    await ads.start();
    client = new XdsClient({ address: `127.0.0.1:${ads.port}`, node: buildNode('test~1.1.1.1~p.ns~ns.svc.cluster.local', {}), protocol: 'delta', types: proxyTypes, handlers: [] });
    client.start();
  });

  after(() => {
    client.close();
    ads.stop();
  });

  test('waits for secrets a cluster names, and stops waiting after 15 s like Envoy', async () => {
    await eventually(() => client.resources(TypeUrl.ClusterLoadAssignment).has('c') && client.resources(TypeUrl.RouteConfiguration).has('r1'), 5000, 'EDS and RDS');
    await ads.waitFor((r) => r.typeUrl === TypeUrl.Secret && r.names.includes('default') && r.names.includes('ROOTCA'));
    assert.equal(client.initialFetchDone(), false, 'secrets still awaited');
    assert.equal(client.initialFetchDone(Date.now() + 15_001), true, 'given up waiting after the initial fetch timeout');
  });
});
