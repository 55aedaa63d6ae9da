/**
 * Istio Gateways for router proxies (issue 13, item 7): listener, route
 * configuration and cluster names and shapes as istiod gives an
 * istio-ingressgateway pod for bookinfo's bookinfo-gateway.yaml, and the
 * HTTPS, redirect, TCP and PASSTHROUGH servers of Istio's ingress tasks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { VirtualHost_TlsRequirementType } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { DownstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { modelOf, sidecarNode } from './helpers.js';

const mesh = `
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  clusterIP: 10.96.0.5
  selector: {istio: ingressgateway}
  ports: [{name: http2, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: 8443}]
---
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: default}
spec:
  clusterIP: 10.96.0.10
  selector: {app: productpage}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  clusterIP: 10.96.0.11
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: tcp-echo, namespace: default}
spec:
  clusterIP: 10.96.0.12
  selector: {app: tcp-echo}
  ports: [{name: tcp, port: 9000}]
`;

/** bookinfo-gateway.yaml, as in Istio's samples. */
const bookinfo = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: default}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match:
    - uri: {exact: /productpage}
    - uri: {prefix: /static}
    route:
    - destination: {host: productpage, port: {number: 9080}}
`;

const routerNode = (labels: Record<string, string> = { istio: 'ingressgateway' }): ProxyNode =>
  ({ ...parseNodeId('router~10.0.0.50~istio-ingressgateway-abc.istio-system~istio-system.svc.cluster.local'), labels });

function resources(yamlText: string, node: ProxyNode = routerNode()) {
  const gen = createGenerator(modelOf(yamlText), routeBuilders);
  const listeners = new Map([...gen.generate(node, TypeUrl.Listener, undefined)].map(([k, v]) => [k, v.message as Listener]));
  const routes = new Map([...gen.generate(node, TypeUrl.RouteConfiguration, undefined)].map(([k, v]) => [k, v.message as RouteConfiguration]));
  const clusters = [...gen.generate(node, TypeUrl.Cluster, undefined).keys()];
  return { listeners, routes, clusters, routeNames: [...gen.referencedNames(node, TypeUrl.RouteConfiguration)] };
}

const hcmOf = (l: Listener, chain = 0) => anyUnpack(l.filterChains[chain]!.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
const tcpOf = (l: Listener, chain = 0) => anyUnpack(l.filterChains[chain]!.filters[0]!.configType.value as never, TcpProxySchema)!;

test('bookinfo-gateway: 0.0.0.0_8080 (the Service port 80 → its targetPort), bound to its port, HCM on RDS http.8080; no sidecar listeners', () => {
  const { listeners, routeNames } = resources(mesh + bookinfo);
  assert.deepEqual([...listeners.keys()], ['0.0.0.0_8080']);
  const l = listeners.get('0.0.0.0_8080')!;
  assert.equal(l.address?.address.case === 'socketAddress' && l.address.address.value.address, '0.0.0.0');
  assert.equal(l.address?.address.case === 'socketAddress' && l.address.address.value.portSpecifier.value, 8080);
  assert.notEqual(l.bindToPort, false, 'a gateway binds its port');
  assert.notEqual(l.useOriginalDst, true);
  const hcm = hcmOf(l);
  assert.equal(hcm.routeSpecifier.case === 'rds' && hcm.routeSpecifier.value.routeConfigName, 'http.8080');
  assert.equal(hcm.statPrefix, 'outbound_0.0.0.0_8080');
  assert.equal(hcm.useRemoteAddress, true);
  assert.deepEqual(hcm.httpFilters.map((f) => f.name), ['envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
  assert.deepEqual(routeNames, ['http.8080']);
});

test('bookinfo-gateway: route http.8080 has virtual host "*:80" with the VirtualService\'s routes to productpage; clusters are only what the routes reach', () => {
  const { routes, clusters } = resources(mesh + bookinfo);
  const rc = routes.get('http.8080')!;
  assert.equal(rc.ignorePortInHostMatching, true);
  assert.equal(rc.validateClusters, false);
  assert.deepEqual(rc.virtualHosts.map((v) => [v.name, v.domains]), [['*:80', ['*']]]);
  const r = rc.virtualHosts[0]!.routes;
  assert.deepEqual(r.map((x) => x.match?.pathSpecifier.value), ['/productpage', '/static']);
  assert.deepEqual(r.map((x) => x.action.case === 'route' && x.action.value.clusterSpecifier.value), Array(2).fill('outbound|9080||productpage.default.svc.cluster.local'));
  assert.ok(clusters.includes('outbound|9080||productpage.default.svc.cluster.local'));
  assert.ok(!clusters.some((c) => c.includes('reviews')), `no reviews cluster: ${clusters.join(' ')}`);
  assert.ok(!clusters.some((c) => c.startsWith('inbound|')));
});

test('a router whose labels no Gateway selects, and a sidecar, get no gateway listeners; a mesh-only VirtualService binds nothing', () => {
  assert.deepEqual([...resources(mesh + bookinfo, routerNode({ app: 'other' })).listeners.keys()], []);
  const side = createGenerator(modelOf(mesh + bookinfo), routeBuilders).generate(sidecarNode('10.0.0.9', 'sleep', 'default'), TypeUrl.Listener, undefined);
  assert.ok(!side.has('0.0.0.0_8080'));
  const meshOnly = bookinfo.replace('gateways: [bookinfo-gateway]', 'gateways: [mesh]');
  const rc = resources(mesh + meshOnly).routes.get('http.8080')!;
  assert.deepEqual(rc.virtualHosts.map((v) => [v.name, v.domains, v.routes.length]), [['blackhole:80', ['*'], 0]]);
});

test('hosts: a VirtualService for "*.example.com" on a server for "a.example.com" serves a.example.com only; "ns/host" binds only that namespace', () => {
  const gw = bookinfo.replace('hosts: ["*"]\n---', 'hosts: ["a.example.com", "other/b.example.com"]\n---').replace('hosts: ["*"]\n  gateways', 'hosts: ["*.example.com"]\n  gateways');
  const rc = resources(mesh + gw).routes.get('http.8080')!;
  assert.deepEqual(rc.virtualHosts.map((v) => [v.name, v.domains]), [['a.example.com:80', ['a.example.com']]]);
});

test('match blocks naming another gateway are skipped; "ns/name" and "name" both bind', () => {
  const gw = bookinfo.replace('gateways: [bookinfo-gateway]', 'gateways: [default/bookinfo-gateway]').replace('- uri: {prefix: /static}', '- uri: {prefix: /static}\n      gateways: [other-gateway]');
  const rc = resources(mesh + gw).routes.get('http.8080')!;
  assert.deepEqual(rc.virtualHosts[0]!.routes.map((x) => x.match?.pathSpecifier.value), ['/productpage']);
});

const https = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: secure, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [bookinfo.example.com]
    tls: {mode: SIMPLE, serverCertificate: /etc/certs/tls.crt, privateKey: /etc/certs/tls.key}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [bookinfo.example.com]
    tls: {httpsRedirect: true}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure, namespace: default}
spec:
  hosts: [bookinfo.example.com]
  gateways: [secure]
  http:
  - route:
    - destination: {host: productpage}
`;

test('HTTPS SIMPLE: 0.0.0.0_8443 with a chain matched on the SNI, terminating TLS with the files, HCM on https.443.https.secure.default', () => {
  const { listeners, routes } = resources(mesh + https);
  const l = listeners.get('0.0.0.0_8443')!;
  assert.deepEqual(l.listenerFilters.map((f) => f.name), ['envoy.filters.listener.tls_inspector']);
  assert.deepEqual(l.filterChains[0]!.filterChainMatch?.serverNames, ['bookinfo.example.com']);
  const tls = anyUnpack(l.filterChains[0]!.transportSocket!.configType.value as never, DownstreamTlsContextSchema)!;
  const cert = tls.commonTlsContext!.tlsCertificates[0]!;
  assert.deepEqual([cert.certificateChain?.specifier.value, cert.privateKey?.specifier.value], ['/etc/certs/tls.crt', '/etc/certs/tls.key']);
  assert.deepEqual(tls.commonTlsContext!.alpnProtocols, ['h2', 'http/1.1']);
  assert.notEqual(tls.requireClientCertificate, true);
  const hcm = hcmOf(l);
  assert.equal(hcm.routeSpecifier.case === 'rds' && hcm.routeSpecifier.value.routeConfigName, 'https.443.https.secure.default');
  const rc = routes.get('https.443.https.secure.default')!;
  assert.deepEqual(rc.virtualHosts.map((v) => [v.name, v.requireTls]), [['bookinfo.example.com:443', VirtualHost_TlsRequirementType.NONE]]);
});

test('httpsRedirect: the HTTP server\'s virtual hosts require TLS (Envoy answers 301 to https)', () => {
  const rc = resources(mesh + https).routes.get('http.8080')!;
  assert.deepEqual(rc.virtualHosts.map((v) => [v.name, v.requireTls]), [['bookinfo.example.com:80', VirtualHost_TlsRequirementType.ALL]]);
});

test('MUTUAL: the client CA and a required client certificate', () => {
  const mutual = https.replace('tls: {mode: SIMPLE,', 'tls: {mode: MUTUAL, caCertificates: /etc/certs/ca.crt,');
  const l = resources(mesh + mutual).listeners.get('0.0.0.0_8443')!;
  const tls = anyUnpack(l.filterChains[0]!.transportSocket!.configType.value as never, DownstreamTlsContextSchema)!;
  assert.equal(tls.requireClientCertificate, true);
  const v = tls.commonTlsContext!.validationContextType;
  assert.equal(v.case === 'validationContext' && v.value.trustedCa?.specifier.value, '/etc/certs/ca.crt');
});

const l4 = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: l4, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.example.com"]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: l4, namespace: default}
spec:
  hosts: ["*"]
  gateways: [l4]
  tcp:
  - match: [{port: 31400}]
    route: [{destination: {host: tcp-echo, port: {number: 9000}}}]
  tls:
  - match: [{port: 443, sniHosts: [a.example.com]}]
    route: [{destination: {host: reviews, port: {number: 9080}}}]
`;

test('TCP server: 0.0.0.0_31400 proxies to the tcp route; PASSTHROUGH: the tls route\'s SNI hosts, unopened', () => {
  const { listeners, clusters } = resources(mesh + l4);
  assert.deepEqual([...listeners.keys()], ['0.0.0.0_31400', '0.0.0.0_8443']);
  const tcp = tcpOf(listeners.get('0.0.0.0_31400')!);
  assert.equal(tcp.clusterSpecifier.value, 'outbound|9000||tcp-echo.default.svc.cluster.local');
  const pass = listeners.get('0.0.0.0_8443')!;
  assert.deepEqual(pass.filterChains.map((c) => [c.filterChainMatch?.serverNames, c.transportSocket]), [[['a.example.com'], undefined]]);
  assert.equal(tcpOf(pass).clusterSpecifier.value, 'outbound|9080||reviews.default.svc.cluster.local');
  assert.ok(clusters.includes('outbound|9000||tcp-echo.default.svc.cluster.local') && clusters.includes('outbound|9080||reviews.default.svc.cluster.local'));
});

test('bind: the listener is named and bound on that address', () => {
  const bound = bookinfo.replace('- port: {number: 80, name: http, protocol: HTTP}', '- port: {number: 80, name: http, protocol: HTTP}\n    bind: 127.0.0.1');
  const { listeners, routeNames } = resources(mesh + bound);
  assert.deepEqual([...listeners.keys()], ['127.0.0.1_8080']);
  assert.deepEqual(routeNames, ['http.8080.127.0.0.1']);
});
