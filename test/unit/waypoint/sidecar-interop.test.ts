/**
 * Sidecar ↔ ambient as istiod configures an HBONE sidecar (ENABLE_HBONE):
 * endpoints of ambient pods carry the tunnel metadata and go through
 * connect_originate, its EDS clusters try the "hbone" transport socket
 * first, and it terminates HBONE on 15008 into main_internal.
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
import { AddressSchema, type Address } from '../../../src/gen/workloadapi/workload_pb.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { modelOf } from '../translate/helpers.js';
import { jsonResources, type Json } from './fixture.js';


const mesh = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {clusterIP: 10.96.5.1, selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-ambient, namespace: shop, labels: {app: reviews, istio.io/dataplane-mode: ambient}}
status: {podIP: 10.1.0.5, phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-sidecar, namespace: shop, labels: {app: reviews, security.istio.io/tlsMode: istio}, annotations: {sidecar.istio.io/status: "{}"}}
status: {podIP: 10.1.0.6, phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-hbone, namespace: shop, labels: {app: reviews, security.istio.io/tlsMode: istio, networking.istio.io/tunnel: http}, annotations: {sidecar.istio.io/status: "{}"}}
status: {podIP: 10.1.0.7, phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client, security.istio.io/tlsMode: istio}, annotations: {sidecar.istio.io/status: "{}"}}
spec: {containers: [{name: app, ports: [{containerPort: 8000}]}]}
status: {podIP: 10.1.0.50, phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Service
metadata: {name: client, namespace: shop}
spec: {clusterIP: 10.96.5.50, selector: {app: client}, ports: [{name: http, port: 8000}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: client-plain, namespace: shop}
spec: {host: client.shop.svc.cluster.local, trafficPolicy: {tls: {mode: DISABLE}}}
`;

const CLUSTER = 'outbound|9080||reviews.shop.svc.cluster.local';
const gen = createGenerator(modelOf(mesh), routeBuilders);
const node = (hbone: boolean): ProxyNode => parseNodeId('sidecar~10.1.0.50~client.shop~shop.svc.cluster.local', hbone ? { ENABLE_HBONE: 'true' } : {});

const all = <D extends DescMessage>(n: ProxyNode, type: TypeUrl, schema: D, names?: string[]) => jsonResources(gen, n, type, schema, names);

test('an ambient endpoint goes through connect_originate with istiod\'s tunnel metadata; a sidecar endpoint stays as it was', () => {
  const eps = all(node(true), TypeUrl.ClusterLoadAssignment, ClusterLoadAssignmentSchema, [CLUSTER]).get(CLUSTER)!.endpoints.flatMap((l: Json) => l.lbEndpoints);
  const byAddr = new Map(eps.map((e: Json) => [JSON.stringify(e.endpoint.address), e.metadata]));
  assert.deepEqual(byAddr.get(JSON.stringify({ envoyInternalAddress: { serverListenerName: 'connect_originate', endpointId: '10.1.0.5:9080' } })), {
    filterMetadata: { 'envoy.filters.listener.original_dst': { local: '10.1.0.5:9080' }, 'envoy.transport_socket_match': { tunnel: 'http' } },
  });
  assert.deepEqual(byAddr.get(JSON.stringify({ socketAddress: { address: '10.1.0.6', portValue: 9080 } })), { filterMetadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } });
  assert.deepEqual(byAddr.get(JSON.stringify({ socketAddress: { address: '10.1.0.7', portValue: 9080 } })), { filterMetadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } },
    'a sidecar that also terminates HBONE (tunnel label) is reached by sidecars over Istio mTLS, not tunnelled');
  const plain = all(node(false), TypeUrl.ClusterLoadAssignment, ClusterLoadAssignmentSchema, [CLUSTER]).get(CLUSTER)!;
  assert.ok(!JSON.stringify(plain).includes('connect_originate'), 'without ENABLE_HBONE: no HBONE');
});

test('the cluster tries hbone first (internal_upstream passing the destination on), then auto mTLS; connect_originate and main_internal clusters exist', () => {
  const clusters = all(node(true), TypeUrl.Cluster, ClusterSchema);
  const c = clusters.get(CLUSTER)!;
  assert.deepEqual(c.transportSocketMatches.map((m: Json) => [m.name, m.match]), [['hbone', { tunnel: 'http' }], ['tlsMode-istio', { tlsMode: 'istio' }], ['tlsMode-disabled', {}]]);
  assert.equal(c.transportSocketMatches[0].transportSocket.typedConfig['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport');
  assert.equal(clusters.get('connect_originate')?.type, 'ORIGINAL_DST');
  assert.equal(clusters.get('main_internal')?.type, 'STATIC');
  assert.ok(!all(node(false), TypeUrl.Cluster, ClusterSchema).has('connect_originate'));
  // A DestinationRule with TLS DISABLE leaves no socket to keep: the plain match is raw_buffer, as istiod's (the proxy refuses a match without one).
  const plain = clusters.get('outbound|8000||client.shop.svc.cluster.local')!;
  assert.deepEqual(plain.transportSocketMatches.map((m: Json) => [m.name, m.transportSocket?.name]), [['hbone', 'envoy.transport_sockets.internal_upstream'], ['tlsMode-disabled', 'envoy.transport_sockets.raw_buffer']]);
});

test('listeners: connect_terminate on 15008 into main_internal, whose chains are the inbound ones without mTLS and for the pod\'s own address', () => {
  const listeners = all(node(true), TypeUrl.Listener, ListenerSchema);
  assert.deepEqual(listeners.get('connect_terminate')!.address, { socketAddress: { address: '0.0.0.0', portValue: 15008 } });
  const mi = listeners.get('main_internal')!;
  assert.deepEqual(mi.internalListener, {});
  const port = mi.filterChains.find((c: Json) => c.filterChainMatch.destinationPort === 8000);
  assert.ok(port, 'the served port has its chain');
  assert.deepEqual(port.filterChainMatch.prefixRanges, [{ addressPrefix: '10.1.0.50', prefixLen: 32 }]);
  for (const c of mi.filterChains) assert.equal(c.transportSocket, undefined, `${c.name}: no TLS inside the tunnel`);
  assert.ok(!mi.filterChains.some((c: Json) => c.name === 'virtualInbound-blackhole'));
  assert.ok(listeners.has('connect_originate'));
  assert.ok(listeners.has('virtualInbound'), 'the sidecar keeps its capture listeners');
  const plain = all(node(false), TypeUrl.Listener, ListenerSchema);
  assert.ok(!plain.has('connect_terminate') && !plain.has('main_internal'));
});

test('the workload API sends a sidecar pod labelled networking.istio.io/tunnel=http as istiod does (HBONE, native tunnel, no L4 policy), and no other sidecar pod', () => {
  const zt = parseNodeId('ztunnel~10.0.0.100~ztunnel-abc.istio-system~istio-system.svc.cluster.local');
  const set = gen.generate(zt, TypeUrl.Address, undefined);
  const w = (n: string) => set.get(n) && (toJson(AddressSchema, set.get(n)!.message as Address) as Json).workload;
  assert.deepEqual([w('Kubernetes//Pod/shop/reviews-hbone')?.tunnelProtocol, w('Kubernetes//Pod/shop/reviews-hbone')?.nativeTunnel], ['HBONE', true]);
  assert.equal(w('Kubernetes//Pod/shop/reviews-hbone')?.authorizationPolicies, undefined);
  assert.equal(w('Kubernetes//Pod/shop/reviews-ambient')?.nativeTunnel, undefined);
  assert.equal(set.get('Kubernetes//Pod/shop/reviews-sidecar'), undefined);
});
