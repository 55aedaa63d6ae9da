import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema, HttpConnectionManager_CodecType } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { httpOutboundListener, virtualOutboundListener, grpcListener, tcpOutboundListener } from '../../../src/controlplane/translate/listeners.js';
import { virtualInboundListener } from '../../../src/controlplane/translate/inbound.js';
import { bookinfo, modelOf, testRoutes } from './helpers.js';

function hcmOf(l: Listener, chain = 0) {
  const f = l.filterChains[chain]!.filters[0]!;
  assert.equal(f.name, 'envoy.filters.network.http_connection_manager');
  return anyUnpack(f.configType.value as never, HttpConnectionManagerSchema)!;
}

function address(l: Listener): string {
  const a = l.address?.address;
  return a?.case === 'socketAddress' ? `${a.value.address}:${a.value.portSpecifier.value}` : '?';
}

test('virtualOutbound: 15001, original dst, default chain to PassthroughCluster (BlackHole under REGISTRY_ONLY)', () => {
  for (const [registryOnly, cluster] of [[false, 'PassthroughCluster'], [true, 'BlackHoleCluster']] as const) {
    const l = virtualOutboundListener(registryOnly);
    assert.equal(l.name, 'virtualOutbound');
    assert.equal(address(l), '0.0.0.0:15001');
    assert.equal(l.useOriginalDst, true);
    assert.deepEqual(l.listenerFilters.map((f) => f.name), ['envoy.filters.listener.original_dst']);
    const f = l.defaultFilterChain!.filters[0]!;
    assert.equal(f.name, 'envoy.filters.network.tcp_proxy');
    const tcp = anyUnpack(f.configType.value as never, TcpProxySchema)!;
    assert.deepEqual(tcp.clusterSpecifier, { case: 'cluster', value: cluster });
  }
});

test('0.0.0.0_PORT: bindToPort false, HCM with RDS "PORT" over ADS, fault, CORS, router (the order istiod uses), stdout access log, websocket upgrades', () => {
  const l = httpOutboundListener(9080);
  assert.equal(l.name, '0.0.0.0_9080');
  assert.equal(address(l), '0.0.0.0:9080');
  assert.equal(l.bindToPort, false);
  const hcm = hcmOf(l);
  assert.equal(hcm.codecType, HttpConnectionManager_CodecType.AUTO);
  assert.equal(hcm.routeSpecifier.case, 'rds');
  assert.equal(hcm.routeSpecifier.case === 'rds' && hcm.routeSpecifier.value.routeConfigName, '9080');
  assert.equal(hcm.routeSpecifier.case === 'rds' && hcm.routeSpecifier.value.configSource?.configSourceSpecifier.case, 'ads');
  assert.deepEqual(hcm.httpFilters.map((f) => f.name), ['envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
  assert.deepEqual(hcm.accessLog.map((a) => a.name), ['envoy.access_loggers.stdout']);
  assert.equal(hcm.useRemoteAddress, false);
  // istiod: websocket upgrades on every sidecar HCM, enabled by default (no `enabled` written).
  assert.deepEqual(hcm.upgradeConfigs.map((u) => [u.upgradeType, u.enabled, u.filters.length]), [['websocket', undefined, 0]]);
  assert.equal(hcm.generateRequestId, true);
  assert.equal(hcm.tracing, undefined);
});

test('VIP_PORT: tcp_proxy from the routes translator', () => {
  const m = modelOf(bookinfo);
  const db = m.service('db.other.svc.cluster.local')!;
  const l = tcpOutboundListener({ model: m, namespace: 'other', services: m.services }, db, 5432, testRoutes.tcp);
  assert.equal(l.name, '10.96.1.1_5432');
  assert.equal(address(l), '10.96.1.1:5432');
  assert.equal(l.bindToPort, false);
  const tcp = anyUnpack(l.filterChains[0]!.filters[0]!.configType.value as never, TcpProxySchema)!;
  assert.deepEqual(tcp.clusterSpecifier, { case: 'cluster', value: 'outbound|5432||db.other.svc.cluster.local' });
  assert.deepEqual(tcp.accessLog.map((a) => a.name), ['envoy.access_loggers.stdout'], 'TCP connections are logged like HTTP requests');
});

test('virtualInbound under DISABLE: blackhole, plaintext passthrough, a raw_buffer chain per port (HTTP inline route to inbound|PORT||, TCP proxy)', () => {
  const security = { mtls: { mode: 'DISABLE' as const, perPort: new Map(), shadowed: [] }, authn: [], authz: { http: [], tcp: [] }, trustDomain: 'cluster.local' };
  const l = virtualInboundListener([{ port: 5432, protocol: 'TCP', services: [] }, { port: 9080, protocol: 'HTTP', services: [] }], security);
  assert.equal(l.name, 'virtualInbound');
  assert.equal(address(l), '0.0.0.0:15006');
  assert.deepEqual(l.listenerFilters.map((f) => f.name), ['envoy.filters.listener.original_dst', 'envoy.filters.listener.http_inspector']);
  assert.deepEqual(l.filterChains.map((c) => [c.name, c.filterChainMatch?.destinationPort, c.filterChainMatch?.transportProtocol]), [
    ['virtualInbound-blackhole', 15006, ''],
    ['virtualInbound-catchall-http', undefined, 'raw_buffer'],
    ['virtualInbound', undefined, 'raw_buffer'],
    ['0.0.0.0_5432', 5432, 'raw_buffer'],
    ['0.0.0.0_9080', 9080, 'raw_buffer'],
  ]);
  assert.ok(l.filterChains.every((c) => c.transportSocket === undefined));
  const hcm = hcmOf(l, 4);
  assert.equal(hcm.routeSpecifier.case, 'routeConfig');
  const rc = hcm.routeSpecifier.case === 'routeConfig' ? hcm.routeSpecifier.value : undefined;
  const action = rc?.virtualHosts[0]?.routes[0]?.action;
  assert.deepEqual(action?.case === 'route' ? action.value.clusterSpecifier : undefined, { case: 'cluster', value: 'inbound|9080||' });
  const tcp = anyUnpack(l.filterChains[3]!.filters[0]!.configType.value as never, TcpProxySchema)!;
  assert.deepEqual([tcp.statPrefix, tcp.clusterSpecifier], ['inbound|5432||', { case: 'cluster', value: 'inbound|5432||' }]);
  const pass = anyUnpack(l.filterChains[2]!.filters[0]!.configType.value as never, TcpProxySchema)!;
  assert.deepEqual(pass.clusterSpecifier, { case: 'cluster', value: 'InboundPassthroughCluster' });
  const black = anyUnpack(l.filterChains[0]!.filters[0]!.configType.value as never, TcpProxySchema)!;
  assert.deepEqual(black.clusterSpecifier, { case: 'cluster', value: 'BlackHoleCluster' });
});

test('gRPC API listener "HOST:PORT": HCM with RDS "HOST:PORT" and the router only', () => {
  const l = grpcListener('reviews.default.svc.cluster.local:9080');
  assert.equal(l.name, 'reviews.default.svc.cluster.local:9080');
  assert.equal(l.address, undefined);
  const hcm = anyUnpack(l.apiListener!.apiListener!, HttpConnectionManagerSchema)!;
  assert.equal(hcm.routeSpecifier.case === 'rds' && hcm.routeSpecifier.value.routeConfigName, 'reviews.default.svc.cluster.local:9080');
  assert.deepEqual(hcm.httpFilters.map((f) => f.name), ['envoy.filters.http.router']);
});

test('TLS ports: SNI filter chains from the routes translator before the default chain, with the TLS inspector', () => {
  const m = modelOf(bookinfo.replace('name: tcp-pg', 'name: tls-pg'));
  const db = m.service('db.other.svc.cluster.local')!;
  const scope = { model: m, namespace: 'other', services: m.services };
  const tls = () => [{ serverNames: ['a.example.com', 'b.example.com'], tcpProxy: testRoutes.tcp(scope, db, 5432) }];
  const l = tcpOutboundListener(scope, db, 5432, testRoutes.tcp, tls);
  assert.deepEqual(l.listenerFilters.map((f) => f.name), ['envoy.filters.listener.tls_inspector']);
  assert.deepEqual(l.filterChains.map((c) => c.filterChainMatch?.serverNames ?? []), [['a.example.com', 'b.example.com'], []]);
  // Plain TCP ports never ask for SNI chains.
  const plain = modelOf(bookinfo);
  const l2 = tcpOutboundListener(scope, plain.service('db.other.svc.cluster.local')!, 5432, testRoutes.tcp, () => assert.fail('not a TLS port'));
  assert.equal(l2.filterChains.length, 1);
});
