/**
 * A waypoint proxy's config against istiod's shapes (listener_waypoint.go,
 * cluster_waypoint.go, the endpoint builder's tunnel metadata): the three
 * listeners, the L7 stack of the services it serves, its HBONE clusters and
 * the inbound-vip clusters and endpoints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toJson, type DescMessage } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { modelOf, stateOf } from '../translate/helpers.js';
import { analyzeConfig } from '../../../src/controlplane/analyze/analyze.js';
import { jsonResources, waypointLabels, waypointMesh, waypointNodeId, type Json } from './fixture.js';


const node: ProxyNode = { ...parseNodeId(waypointNodeId), labels: waypointLabels };
const gen = createGenerator(modelOf(waypointMesh), routeBuilders);

const all = <D extends DescMessage>(type: TypeUrl, schema: D, names?: string[]) => jsonResources(gen, node, type, schema, names);

const HOST = 'reviews.shop.svc.cluster.local';
const listeners = all(TypeUrl.Listener, ListenerSchema);
const clusters = all(TypeUrl.Cluster, ClusterSchema);

test('listeners: connect_terminate, main_internal, connect_originate; no sidecar listener, no RDS', () => {
  assert.deepEqual([...listeners.keys()].sort(), ['connect_originate', 'connect_terminate', 'main_internal']);
  assert.equal(gen.generate(node, TypeUrl.RouteConfiguration, undefined).size, 0);
  assert.equal(gen.referencedNames(node, TypeUrl.RouteConfiguration).size, 0);
});

test('connect_terminate: 0.0.0.0:15008, mutual TLS 1.3 with h2 and the trust domain, CONNECT routed to main_internal, :authority kept as the destination', () => {
  const l = listeners.get('connect_terminate')!;
  assert.deepEqual(l.address, { socketAddress: { address: '0.0.0.0', portValue: 15008 } });
  const chain = l.filterChains[0];
  const tls = chain.transportSocket.typedConfig;
  assert.equal(tls['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
  assert.equal(tls.requireClientCertificate, true);
  assert.deepEqual(tls.commonTlsContext.alpnProtocols, ['h2']);
  assert.deepEqual(tls.commonTlsContext.tlsParams, { tlsMinimumProtocolVersion: 'TLSv1_3', tlsMaximumProtocolVersion: 'TLSv1_3' });
  assert.deepEqual(tls.commonTlsContext.tlsCertificateSdsSecretConfigs.map((s: Json) => s.name), ['default']);
  assert.deepEqual(tls.commonTlsContext.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames, [{ sanType: 'URI', matcher: { prefix: 'spiffe://cluster.local/' } }]);
  const hcm = chain.filters[0].typedConfig;
  assert.equal(hcm.statPrefix, 'connect_terminate');
  assert.deepEqual(hcm.upgradeConfigs, [{ upgradeType: 'CONNECT' }]);
  assert.equal(hcm.http2ProtocolOptions.allowConnect, true);
  assert.deepEqual(hcm.routeConfig.virtualHosts[0].routes, [{
    match: { connectMatcher: {} },
    route: { cluster: 'main_internal', upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] },
  }]);
  const sfs = hcm.httpFilters[0];
  assert.equal(sfs.typedConfig['@type'], 'type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config');
  assert.deepEqual(sfs.typedConfig.onRequestHeaders[0], {
    objectKey: 'envoy.filters.listener.original_dst.local_ip',
    formatString: { textFormatSource: { inlineString: '%REQ(:AUTHORITY)%' } },
    sharedWithUpstream: 'ONCE',
  });
  assert.equal(hcm.httpFilters.at(-1).name, 'envoy.filters.http.router');
});

test('main_internal: an internal listener restoring the destination, one chain per service port matched on VIP and port, with the VirtualService (split, retries, fault) towards inbound-vip clusters and the policy attached to the Gateway', () => {
  const l = listeners.get('main_internal')!;
  assert.deepEqual(l.internalListener, {});
  assert.equal(l.address, undefined);
  assert.deepEqual(l.listenerFilters.map((f: Json) => f.name), ['envoy.filters.listener.original_dst']);
  assert.deepEqual(l.filterChains.map((c: Json) => c.name), [`inbound-vip|5432|tcp|${HOST}`, `inbound-vip|9080|http|${HOST}`]);
  const http = l.filterChains[1];
  assert.deepEqual(http.filterChainMatch, { prefixRanges: [{ addressPrefix: '10.96.5.1', prefixLen: 32 }], destinationPort: 9080 });
  const hcm = http.filters[0].typedConfig;
  assert.deepEqual(hcm.httpFilters.map((f: Json) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
  assert.match(JSON.stringify(hcm.httpFilters[0].typedConfig), /ns\[shop\]-policy\[no-delete\]-rule\[0\]/);
  const rc = hcm.routeConfig;
  assert.equal(rc.name, `inbound-vip|9080|http|${HOST}`);
  assert.equal(rc.virtualHosts[0].name, 'inbound|http|9080');
  assert.deepEqual(rc.virtualHosts[0].domains, ['*']);
  const [slow, split] = rc.virtualHosts[0].routes;
  assert.equal(slow.route.cluster, `inbound-vip|9080|http/v1|${HOST}`);
  assert.ok(slow.typedPerFilterConfig['envoy.filters.http.fault'], 'the fault rides on the route');
  assert.deepEqual(split.route.weightedClusters.clusters.map((c: Json) => [c.name, c.weight]), [[`inbound-vip|9080|http/v1|${HOST}`, 90], [`inbound-vip|9080|http/v2|${HOST}`, 10]]);
  assert.equal(split.route.retryPolicy.numRetries, 3);
  const tcp = l.filterChains[0];
  assert.deepEqual(tcp.filters.map((f: Json) => f.name), ['envoy.filters.network.rbac', 'envoy.filters.network.tcp_proxy']);
  assert.equal(tcp.filters[1].typedConfig.cluster, `inbound-vip|5432|tcp|${HOST}`);
});

test('connect_originate: an internal listener tunnelling to its restored local address', () => {
  const l = listeners.get('connect_originate')!;
  assert.deepEqual(l.internalListener, {});
  assert.equal(l.useOriginalDst, false);
  assert.deepEqual(l.listenerFilters.map((f: Json) => f.name), ['envoy.filters.listener.original_dst']);
  const tcp = l.filterChains[0].filters[0].typedConfig;
  assert.equal(tcp.cluster, 'connect_originate');
  assert.deepEqual(tcp.tunnelingConfig, { hostname: '%DOWNSTREAM_LOCAL_ADDRESS%' });
});

test('clusters: main_internal to its listener, connect_originate ORIGINAL_DST on 15008 with HTTP/2 CONNECT and HBONE TLS, inbound-vip per port, kind and subset', () => {
  const mi = clusters.get('main_internal')!;
  assert.equal(mi.type, 'STATIC');
  assert.deepEqual(mi.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address, { envoyInternalAddress: { serverListenerName: 'main_internal' } });
  const co = clusters.get('connect_originate')!;
  assert.equal(co.type, 'ORIGINAL_DST');
  assert.equal(co.lbPolicy, 'CLUSTER_PROVIDED');
  assert.deepEqual(co.originalDstLbConfig, { upstreamPortOverride: 15008, metadataKey: { key: 'envoy.filters.listener.original_dst', path: [{ key: 'waypoint' }] } });
  const h2 = co.typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicitHttpConfig.http2ProtocolOptions;
  assert.deepEqual(h2, { allowConnect: true, initialStreamWindowSize: 4194304, initialConnectionWindowSize: 16777216 });
  assert.equal(co.transportSocket.typedConfig['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
  assert.equal(co.transportSocket.typedConfig.sni, undefined, 'no SNI: the peer is an IP');
  const vip = [...clusters.keys()].filter((n) => n.startsWith('inbound-vip|')).sort();
  assert.deepEqual(vip, [
    `inbound-vip|5432|tcp/v1|${HOST}`, `inbound-vip|5432|tcp/v2|${HOST}`, `inbound-vip|5432|tcp|${HOST}`,
    `inbound-vip|9080|http/v1|${HOST}`, `inbound-vip|9080|http/v2|${HOST}`, `inbound-vip|9080|http|${HOST}`,
  ]);
  const c = clusters.get(`inbound-vip|9080|http/v1|${HOST}`)!;
  assert.equal(c.type, 'EDS');
  assert.equal(c.edsClusterConfig.serviceName, `inbound-vip|9080|http/v1|${HOST}`);
  assert.equal(c.transportSocketMatches, undefined);
  assert.equal(c.transportSocket.typedConfig['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport');
  assert.deepEqual(c.transportSocket.typedConfig.passthroughMetadata, [{ kind: { host: {} }, name: 'envoy.filters.listener.original_dst' }, { kind: { host: {} }, name: 'istio' }]);
  assert.ok(clusters.has(`outbound|9080|v1|${HOST}`), 'outbound clusters for routes that leave the served services');
  assert.ok(gen.referencedNames(node, TypeUrl.ClusterLoadAssignment).has(`inbound-vip|9080|http/v1|${HOST}`));
});

test('inbound-vip endpoints: the subset\'s pods reached through connect_originate, each pod IP:port as endpoint id and original_dst.local', () => {
  const cla = all(TypeUrl.ClusterLoadAssignment, ClusterLoadAssignmentSchema, [`inbound-vip|9080|http/v1|${HOST}`, `inbound-vip|9080|http|${HOST}`]);
  const eps = (n: string) => cla.get(n)!.endpoints.flatMap((l: Json) => l.lbEndpoints);
  assert.deepEqual(eps(`inbound-vip|9080|http/v1|${HOST}`).map((e: Json) => [e.endpoint.address, e.metadata]), [[
    { envoyInternalAddress: { serverListenerName: 'connect_originate', endpointId: '10.1.0.5:9080' } },
    { filterMetadata: { 'envoy.filters.listener.original_dst': { local: '10.1.0.5:9080' } } },
  ]]);
  assert.equal(eps(`inbound-vip|9080|http|${HOST}`).length, 2);
});

test('a sidecar of the same namespace is still a sidecar; a waypoint of nothing gets only the HBONE listeners', () => {
  const sidecar = parseNodeId('sidecar~10.1.0.50~client.shop~shop.svc.cluster.local');
  assert.ok(gen.generate(sidecar, TypeUrl.Listener, undefined).has('virtualOutbound'));
  const bare = parseNodeId('waypoint~10.1.0.98~other.shop~shop.svc.cluster.local');
  const names = [...gen.generate(bare, TypeUrl.Listener, undefined).keys()].sort();
  assert.deepEqual(names, ['connect_originate', 'connect_terminate', 'main_internal']);
  const mi = jsonResources(gen, bare, TypeUrl.Listener, ListenerSchema, ['main_internal']).get('main_internal')!;
  assert.deepEqual(mi.filterChains.map((c: Json) => [c.name, c.filters[0].typedConfig.cluster]), [['virtualInbound-blackhole', 'BlackHoleCluster']], 'Envoy needs a chain: one that goes nowhere');
});

test('a policy attached to the waypoint by targetRefs is enforced there, so it is not reported as unserved; one attached to an ingress Gateway still is', () => {
  const reasons = (yaml: string) => analyzeConfig(stateOf(yaml).objects.values(), modelOf(yaml)).map((p) => p.reason).filter((r) => r.includes('targetRef'));
  assert.deepEqual(reasons(waypointMesh), []);
  const ingress = waypointMesh.replace('targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: wp}]', 'targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: edge}]');
  assert.equal(reasons(ingress).length, 1);
});

test('a policy attached to a Service applies on that service\'s chains only; one attached to another Service nowhere here', () => {
  const yaml = waypointMesh + `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-get-only, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: reviews}]
  rules: [{to: [{operation: {methods: [GET]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-svc, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: ratings}]
  rules: [{to: [{operation: {methods: [POST]}}]}]
`;
  const g = createGenerator(modelOf(yaml), routeBuilders);
  const l = g.generate(node, TypeUrl.Listener, new Set(['main_internal'])).get('main_internal')!;
  const text = JSON.stringify(toJson(ListenerSchema, l.message as never, { registry: xdsRegistry }));
  assert.match(text, /ns\[shop\]-policy\[reviews-get-only\]-rule\[0\]/);
  assert.match(text, /ns\[shop\]-policy\[no-delete\]-rule\[0\]/);
  assert.doesNotMatch(text, /other-svc/);
});
