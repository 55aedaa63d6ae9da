/**
 * TLS and HTTPS services without a VIP (a ServiceEntry for an external
 * HTTPS host, how Istio's egress tasks write them) get 0.0.0.0_PORT with a
 * chain per host matched on SNI, to the host's own cluster, and the
 * outbound traffic policy's fallthrough for any other name (issue 13, item 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { modelOf, sidecarNode } from './helpers.js';

const entry = (name: string, host: string, protocol = 'HTTPS', port = 443) => `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [${host}]
  ports: [{number: ${port}, name: p, protocol: ${protocol}}]
  resolution: NONE
  location: MESH_EXTERNAL
`;

function listener(yamlText: string, name: string): Listener | undefined {
  const gen = createGenerator(modelOf(yamlText), routeBuilders);
  return gen.generate(sidecarNode('10.0.0.9', 'sleep', 'default'), TypeUrl.Listener, undefined).get(name)?.message as Listener | undefined;
}

const cluster = (c: Listener['filterChains'][number] | undefined) => {
  const tcp = anyUnpack(c!.filters[0]!.configType.value as never, TcpProxySchema)!;
  return tcp.clusterSpecifier.case === 'cluster' ? tcp.clusterSpecifier.value : tcp.clusterSpecifier.case;
};

test('each HTTPS host without addresses: a chain matched on its SNI to outbound|443||HOST; other names pass through', () => {
  const l = listener(entry('google', 'www.google.com') + entry('example', 'api.example.com') + entry('tls', 'db.example.com', 'TLS', 443) + entry('wiki', '"*.wikipedia.org"'), '0.0.0.0_443')!;
  assert.ok(l, 'listener 0.0.0.0_443');
  assert.equal(l.bindToPort, false);
  assert.deepEqual(l.listenerFilters.map((f) => f.name), ['envoy.filters.listener.tls_inspector']);
  assert.deepEqual(l.filterChains.map((c) => `${c.filterChainMatch?.serverNames.join(',')} → ${cluster(c)}`).sort(), [
    '*.wikipedia.org → outbound|443||*.wikipedia.org',
    'api.example.com → outbound|443||api.example.com',
    'db.example.com → outbound|443||db.example.com',
    'www.google.com → outbound|443||www.google.com',
  ]);
  assert.equal(l.defaultFilterChain?.name, 'PassthroughFilterChain');
  assert.equal(cluster(l.defaultFilterChain), 'PassthroughCluster');
});

test('REGISTRY_ONLY: an unknown name goes to the black hole; an HTTP service on the port keeps 0.0.0.0_PORT as its HTTP listener', () => {
  const sidecar = `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`;
  const l = listener(entry('google', 'www.google.com') + sidecar, '0.0.0.0_443')!;
  assert.equal(cluster(l.defaultFilterChain), 'BlackHoleCluster');
  const mixed = listener(entry('google', 'www.google.com') + entry('plain', 'plain.example.com', 'HTTP', 443), '0.0.0.0_443')!;
  assert.equal(mixed.filterChains.length, 1);
  assert.equal(mixed.filterChains[0]!.filters[0]!.name, 'envoy.filters.network.http_connection_manager');
});

test('a VirtualService tls route for the host replaces the host\'s own chain (never two chains with one match)', () => {
  const vs = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: google, namespace: default}
spec:
  hosts: [www.google.com]
  tls:
  - match: [{port: 443, sniHosts: [www.google.com]}]
    route: [{destination: {host: www.google.com, port: {number: 443}}, weight: 100}]
`;
  const l = listener(entry('google', 'www.google.com') + vs, '0.0.0.0_443')!;
  assert.deepEqual(l.filterChains.map((c) => `${c.name} ${c.filterChainMatch?.serverNames.join(',')} → ${cluster(c)}`), ['0.0.0.0_443_www.google.com_0 www.google.com → outbound|443||www.google.com']);
});
