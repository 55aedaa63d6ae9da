import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { viewAddress } from '../../../src/controlplane/translate/loopback.js';
import { parseServiceCidr } from '../../../src/config/cluster-ip.js';
import { Cluster_DiscoveryType, type Cluster } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import { bookinfo, modelOf, sidecarNode } from './helpers.js';

const loopbackMeta = { INTERCEPTION_MODE: 'NONE', LOOPBACK_APP_IP: '127.30.1.10', LOOPBACK_SERVICE_VIEW: '127.41.0.0/16' };
const node = parseNodeId('sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local', loopbackMeta);
const gen = createGenerator(modelOf(bookinfo), routeBuilders);

function bind(l: Listener): string {
  const sa = l.address?.address.case === 'socketAddress' ? l.address.address.value : undefined;
  return `${sa?.address}:${sa?.portSpecifier.value}${l.bindToPort === false ? ' (not bound)' : ''}`;
}

test('view addresses: the VIP\'s host bits under the view prefix', () => {
  const v = parseServiceCidr('127.41.0.0/16');
  assert.equal(viewAddress(v, '10.96.3.7'), '127.41.3.7');
  assert.equal(viewAddress(v, '10.97.3.7'), '127.41.3.7');
  assert.equal(viewAddress(v, 'fd00::1'), undefined);
});

test('a sidecar without capture (INTERCEPTION_MODE NONE) binds each service at its view address and its inbound ports on its own address', () => {
  const listeners = gen.generate(node, TypeUrl.Listener, undefined);
  const bound = Object.fromEntries([...listeners.values()].map((r) => [r.name, bind(r.message as Listener)]));
  assert.deepEqual(bound, {
    '10.0.0.1_9080': '10.0.0.1:9080',
    '10.96.0.20_9080': '127.41.0.20:9080',
    '10.96.0.30_9090': '127.41.0.30:9090',
    '10.96.1.1_5432': '127.41.1.1:5432',
  });
  // The HTTP listener keeps the route config of the port it replaces; inbound keeps virtualInbound's chain for the port.
  const http = listeners.get('10.96.0.20_9080')!.message as Listener;
  assert.equal(http.filterChains.length, 1);
  const inbound = listeners.get('10.0.0.1_9080')!.message as Listener;
  // PERMISSIVE (no PeerAuthentication): the port's mTLS chain and its plaintext chain, as with capture.
  assert.deepEqual(inbound.filterChains.map((c) => `${c.name} ${c.filterChainMatch?.transportProtocol}`).sort(), ['0.0.0.0_9080 raw_buffer', '0.0.0.0_9080 tls']);
  assert.ok(!inbound.listenerFilters.some((f) => f.name.includes('original_dst')));
});

test('its inbound cluster goes to the app address (STATIC), the rest is unchanged', () => {
  const clusters = gen.generate(node, TypeUrl.Cluster, undefined);
  const inbound = clusters.get('inbound|9080||')!.message as Cluster;
  assert.equal(inbound.clusterDiscoveryType.value, Cluster_DiscoveryType.STATIC);
  const ep = inbound.loadAssignment!.endpoints[0]!.lbEndpoints[0]!;
  const sa = ep.hostIdentifier.case === 'endpoint' ? ep.hostIdentifier.value.address?.address : undefined;
  assert.equal(sa?.case === 'socketAddress' && `${sa.value.address}:${sa.value.portSpecifier.value}`, '127.30.1.10:9080');
  const capture = createGenerator(modelOf(bookinfo), routeBuilders).generate(sidecarNode('10.0.0.1', 'reviews-v1', 'default'), TypeUrl.Cluster, undefined);
  assert.deepEqual([...clusters.keys()].sort(), [...capture.keys()].sort());
});

test('virtual hosts answer to the view address of their VIP too (the app calls what its environment says)', () => {
  const routes = gen.generate(node, TypeUrl.RouteConfiguration, new Set(['9080']));
  const rc = routes.get('9080')!.message as RouteConfiguration;
  const reviews = rc.virtualHosts.find((v) => v.name.startsWith('reviews.'))!;
  for (const d of ['10.96.0.20', '10.96.0.20:9080', '127.41.0.20', '127.41.0.20:9080', 'reviews:9080']) assert.ok(reviews.domains.includes(d), d);
  // A proxy with capture gets the shared config, without view addresses.
  const plain = createGenerator(modelOf(bookinfo), routeBuilders).generate(sidecarNode('10.0.0.9', 'x', 'default'), TypeUrl.RouteConfiguration, new Set(['9080']));
  assert.ok(!(plain.get('9080')!.message as RouteConfiguration).virtualHosts.some((v) => v.domains.some((d) => d.startsWith('127.41.'))));
});

test('a capture sidecar is untouched', () => {
  const names = [...gen.generate(sidecarNode('10.0.0.1', 'reviews-v1', 'default'), TypeUrl.Listener, undefined).keys()].sort();
  assert.deepEqual(names, ['0.0.0.0_9080', '0.0.0.0_9090', '10.96.1.1_5432', 'virtualInbound', 'virtualOutbound']);
});

test('an unprivileged proxy binds service ports below LOOPBACK_LOW_PORTS 10000 higher, and its virtual hosts answer there too', () => {
  const low = parseNodeId('sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local', { ...loopbackMeta, LOOPBACK_LOW_PORTS: '9085' });
  const g = createGenerator(modelOf(bookinfo), routeBuilders);
  const bound = Object.fromEntries([...g.generate(low, TypeUrl.Listener, undefined).values()].map((r) => [r.name, bind(r.message as Listener)]));
  assert.equal(bound['10.96.0.20_9080'], '127.41.0.20:19080');
  assert.equal(bound['10.96.0.30_9090'], '127.41.0.30:9090');
  // Inbound ports are the app's: not moved.
  assert.equal(bound['10.0.0.1_9080'], '10.0.0.1:9080');
  const rc = g.generate(low, TypeUrl.RouteConfiguration, new Set(['9080'])).get('9080')!.message as RouteConfiguration;
  const reviews = rc.virtualHosts.find((v) => v.name.startsWith('reviews.'))!;
  assert.ok(reviews.domains.includes('127.41.0.20:19080'));
  assert.ok(reviews.domains.includes('127.41.0.20:9080'));
});
