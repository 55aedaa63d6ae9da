import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdsServer } from '../../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../../src/controlplane/metrics/metrics.js';
import { logger } from '../../../src/log.js';
import type { DeltaDiscoveryResponse } from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CDS, EDS, FakeGenerator, LDS, RDS, cluster, endpoints, listener, route, type FakeMesh } from './fake-generator.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import { TestAdsClient, nodeId, waitFor } from '../../helpers/ads-client.js';

function mesh(clusters: Array<[string, number]>): FakeMesh {
  return {
    default: {
      [CDS]: clusters.map(([n, t]) => cluster(n, t)),
      [EDS]: clusters.map(([n]) => endpoints(n)),
      [LDS]: [listener('0.0.0.0_9080', 9080)],
      [RDS]: [route('9080', ['reviews']), route('8080', ['ratings'])],
    },
  };
}
const base: Array<[string, number]> = [['a', 1], ['b', 1], ['c', 1]];

const names = (res: DeltaDiscoveryResponse) => res.resources.map((r) => r.name).sort();

describe('ADS Delta', () => {
  let server: AdsServer;
  let client: TestAdsClient;
  const metrics = new Metrics();

  before(async () => {
    server = new AdsServer({ generator: new FakeGenerator(mesh(base)), parseNode, metrics, log: logger('test-ads') });
    client = new TestAdsClient(await server.listen('127.0.0.1', 0));
  });

  after(async () => {
    client.close();
    await server.close();
  });

  test('initial empty subscribe on CDS is a wildcard: all clusters, with versions', async () => {
    const s = client.delta(nodeId('w', 'default'));
    s.request(CDS);
    const res = await s.next();
    assert.deepEqual(names(res), ['a', 'b', 'c']);
    assert.ok(res.resources.every((r) => r.version !== '' && r.resource?.typeUrl === CDS));
    assert.deepEqual(res.removedResources, []);
    assert.notEqual(res.systemVersionInfo, '');
    assert.equal(server.syncStatus().find((p) => p.nodeId === nodeId('w', 'default'))?.stream, 'delta');
    s.close();
  });

  test('initial_resource_versions: resources the client already has are not sent; unknown ones are removed', async () => {
    const probe = client.delta(nodeId('probe', 'default'));
    probe.request(CDS);
    const full = await probe.next();
    probe.close();
    const have = Object.fromEntries(full.resources.filter((r) => r.name !== 'b').map((r) => [r.name, r.version]));
    have['gone'] = 'v-old';
    const s = client.delta(nodeId('irv', 'default'));
    s.request(CDS, { initialResourceVersions: have });
    const res = await s.next();
    assert.deepEqual(names(res), ['b']);
    assert.deepEqual(res.removedResources, ['gone']);
    s.close();
  });

  test('explicit subscribe / unsubscribe on EDS', async () => {
    const id = nodeId('sub', 'default');
    const s = client.delta(id);
    s.request(EDS, { resourceNamesSubscribe: ['a'] });
    const r1 = await s.next();
    assert.deepEqual(names(r1), ['a']);
    s.ack(r1);
    s.request(EDS, { resourceNamesSubscribe: ['b', 'nope'] });
    const r2 = await s.next();
    assert.deepEqual(names(r2), ['b'], 'only the newly subscribed resource is sent');
    assert.deepEqual(r2.removedResources, ['nope'], 'a subscribed name that does not exist is reported removed');
    s.ack(r2);
    s.request(EDS, { resourceNamesUnsubscribe: ['a'] });
    assert.equal(await s.quiet(150), true, 'an unsubscribe needs no response');
    await waitFor(() => server.findProxy(id)?.types.get(EDS)?.resources.has('a') === false);
    s.request(EDS, { resourceNamesSubscribe: ['a'] });
    assert.deepEqual(names(await s.next()), ['a'], 're-subscribing sends the resource again');
    s.close();
  });

  test('push: only changed resources, and removed_resources on deletion', async () => {
    const id = nodeId('push', 'default');
    const s = client.delta(id);
    s.request(CDS);
    s.ack(await s.next());
    s.request(RDS, { resourceNamesSubscribe: ['9080'] });
    s.ack(await s.next());
    server.setGenerator(new FakeGenerator(mesh([['a', 1], ['b', 7]])));
    server.push();
    const res = await s.next();
    assert.equal(res.typeUrl, CDS);
    assert.deepEqual(names(res), ['b']);
    assert.deepEqual(res.removedResources, ['c']);
    s.ack(res);
    assert.equal(await s.quiet(150), true, 'RDS did not change');
    await waitFor(() => server.syncStatus().find((p) => p.nodeId === id)?.types.CDS.status === 'SYNCED');
    server.setGenerator(new FakeGenerator(mesh(base)));
    s.close();
  });

  test('NACK is recorded, counted and the version is not re-sent', async () => {
    const id = nodeId('dnack', 'default');
    const s = client.delta(id);
    s.request(LDS);
    const res = await s.next();
    s.nack(res, 'listener 0.0.0.0_9080: no filter chains');
    await waitFor(() => server.syncStatus().find((p) => p.nodeId === id)?.types.LDS.nack !== undefined);
    const st = server.syncStatus().find((p) => p.nodeId === id)!.types.LDS;
    assert.equal(st.status, 'STALE');
    assert.equal(st.nack?.error, 'listener 0.0.0.0_9080: no filter chains');
    assert.equal(metrics.counter('pilot_total_xds_rejects', '', ['type']).value({ type: 'lds' }), 1);
    server.push();
    assert.equal(await s.quiet(150), true);
    s.close();
  });

  test('a first request that unsubscribes "*" is no wildcard (on-demand): nothing, then exactly the names subscribed', async () => {
    for (const subscribe of [[], ['*']]) {
      const s = client.delta(nodeId(`ondemand-${subscribe.length}`, 'default'));
      s.request(CDS, { resourceNamesSubscribe: subscribe, resourceNamesUnsubscribe: ['*'] });
      const r1 = await s.next();
      assert.deepEqual(names(r1), [], `subscribe ${JSON.stringify(subscribe)}`);
      s.ack(r1);
      s.request(CDS, { resourceNamesSubscribe: ['b'] });
      const r2 = await s.next();
      assert.deepEqual(names(r2), ['b']);
      s.close();
    }
  });

  test('wildcard via "*" and leaving it with unsubscribe "*"', async () => {
    const s = client.delta(nodeId('star', 'default'));
    s.request(CDS, { resourceNamesSubscribe: ['*'] });
    const r1 = await s.next();
    assert.deepEqual(names(r1), ['a', 'b', 'c']);
    s.ack(r1);
    s.request(CDS, { resourceNamesUnsubscribe: ['*'], resourceNamesSubscribe: ['a'] });
    const r2 = await s.next();
    assert.deepEqual(names(r2), []);
    assert.deepEqual(r2.removedResources.sort(), ['b', 'c']);
    s.close();
  });
});
