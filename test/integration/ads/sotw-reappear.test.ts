/**
 * The server side of reappearing resources, on the wire: what a SotW stream
 * is sent when an LDS/CDS resource it was told is gone comes back (a new,
 * equivalent spelling), and where that does not apply.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Cluster } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import type { DiscoveryResponse } from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { AdsServer } from '../../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../../src/controlplane/metrics/metrics.js';
import { logger } from '../../../src/log.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import { CDS, FakeGenerator, LDS } from './fake-generator.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import { mesh } from './greeter-mesh.js';
import { TestAdsClient, nodeId, type SotwStream } from '../../helpers/ads-client.js';

const unpack = <T>(res: DiscoveryResponse): T[] => res.resources.map((a) => anyUnpack(a, xdsRegistry) as T);
const bytes = (res: DiscoveryResponse) => res.resources.map((a) => Buffer.from(a.value).toString('hex'));

describe('ADS SotW: resources that come back after a removal', () => {
  let server: AdsServer;
  let client: TestAdsClient;
  const full = new FakeGenerator(mesh(50051));
  const empty = new FakeGenerator({ default: {} });
  const set = (g: FakeGenerator) => {
    server.setGenerator(g);
    server.push();
  };

  before(async () => {
    server = new AdsServer({ generator: full, parseNode, metrics: new Metrics(), log: logger('test-ads') });
    client = new TestAdsClient(await server.listen('127.0.0.1', 0));
  });
  after(async () => {
    client.close();
    await server.close();
  });

  /** Subscribes LDS ["greeter"] and CDS ["greeter-cluster"] by name, as grpc-js-xds does; returns the first responses. */
  async function subscribe(s: SotwStream): Promise<{ lds: DiscoveryResponse; cds: DiscoveryResponse }> {
    s.request(LDS, ['greeter']);
    const lds = await s.next();
    s.ack(lds, ['greeter']);
    s.request(CDS, ['greeter-cluster']);
    const cds = await s.next();
    s.ack(cds, ['greeter-cluster']);
    return { lds, cds };
  }

  /** Sends `g` and returns the LDS and CDS responses of that push, ACKed. */
  async function pushed(s: SotwStream, g: FakeGenerator): Promise<{ lds: DiscoveryResponse; cds: DiscoveryResponse }> {
    set(g);
    const cds = await s.next();
    const lds = await s.next();
    assert.deepEqual([cds.typeUrl, lds.typeUrl], [CDS, LDS]);
    s.ack(cds, ['greeter-cluster']);
    s.ack(lds, ['greeter']);
    return { lds, cds };
  }

  test('back after a removal: new bytes, same meaning; each return differs from the one before', async () => {
    const s = client.sotw(nodeId('back', 'default'));
    const original = await subscribe(s);
    assert.equal(unpack<Cluster>(original.cds)[0]!.edsClusterConfig?.serviceName, '');

    const gone = await pushed(s, empty);
    assert.deepEqual([gone.lds.resources.length, gone.cds.resources.length], [0, 0]);

    const back1 = await pushed(s, full);
    assert.notDeepEqual(bytes(back1.lds), bytes(original.lds));
    assert.notEqual(back1.lds.versionInfo, original.lds.versionInfo);
    const l1 = unpack<Listener>(back1.lds)[0]!;
    assert.deepEqual(l1.metadata?.filterMetadata.trellis, { reappeared: 1 });
    assert.deepEqual(l1.apiListener, unpack<Listener>(original.lds)[0]!.apiListener, 'the API listener itself is unchanged');
    // The other spelling of "EDS resource named like the cluster".
    assert.equal(unpack<Cluster>(back1.cds)[0]!.edsClusterConfig?.serviceName, 'greeter-cluster');

    // Stable while it stays: a push of the same config sends nothing.
    set(full);
    assert.ok(await s.quiet(200));

    await pushed(s, empty);
    const back2 = await pushed(s, full);
    assert.deepEqual(unpack<Listener>(back2.lds)[0]!.metadata?.filterMetadata.trellis, { reappeared: 2 });
    assert.notDeepEqual(bytes(back2.cds), bytes(back1.cds));
    assert.deepEqual(bytes(back2.cds), bytes(original.cds), 'two cluster spellings alternate');
    s.close();
  });

  test('a name the client unsubscribed was not deleted for it: it comes back as generated', async () => {
    set(full);
    const s = client.sotw(nodeId('unsub', 'default'));
    const original = await subscribe(s);
    // Not an empty list: SotW LDS without names is a wildcard subscription.
    s.request(LDS, ['other'], original.lds.nonce);
    const unsub = await s.next();
    assert.equal(unsub.resources.length, 0);
    s.request(LDS, ['greeter'], unsub.nonce);
    const again = await s.next();
    assert.deepEqual(bytes(again), bytes(original.lds));
    s.close();
  });

  test('a proxy that connects after the return gets the resources as generated', async () => {
    set(empty);
    set(full);
    const s = client.sotw(nodeId('late', 'default'));
    const { lds, cds } = await subscribe(s);
    assert.equal(unpack<Listener>(lds)[0]!.metadata, undefined);
    assert.equal(unpack<Cluster>(cds)[0]!.edsClusterConfig?.serviceName, '');
    s.close();
  });
});
