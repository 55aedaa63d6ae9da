/**
 * A Gateway API Gateway served by a router proxy (issue 13, item 7): the
 * listener, route configuration and virtual hosts istiod gives the pod of a
 * Gateway API Gateway, from the Istio config the registry converts it to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import type { RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { modelOf } from './helpers.js';

const config = `
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: shop}
spec: {clusterIP: 10.96.0.20, selector: {app: shop}, ports: [{name: http, port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - {name: web, port: 80, protocol: HTTP, hostname: "*.shop.example", allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [www.shop.example, www.other.example]
  rules:
  - matches: [{path: {value: /}}]
    backendRefs: [{name: shop, port: 8080}]
  - matches: [{path: {type: Exact, value: /cart}}]
    backendRefs: [{name: shop, port: 8080}]
`;

const router = (labels: Record<string, string>): ProxyNode => ({ ...parseNodeId('router~10.0.0.60~edge-istio-6b7c.infra~infra.svc.cluster.local'), labels });

function resources(node: ProxyNode) {
  const gen = createGenerator(modelOf(config), routeBuilders);
  const routes = new Map([...gen.generate(node, TypeUrl.RouteConfiguration, undefined)].map(([k, v]) => [k, v.message as RouteConfiguration]));
  return { listeners: [...gen.generate(node, TypeUrl.Listener, undefined).keys()], routes, clusters: [...gen.generate(node, TypeUrl.Cluster, undefined).keys()] };
}

test('the router labelled with the Gateway\'s name gets 0.0.0.0_80 and http.80: one virtual host for the host route and listener share, Exact before the prefix', () => {
  const { listeners, routes, clusters } = resources(router({ 'gateway.networking.k8s.io/gateway-name': 'edge' }));
  assert.deepEqual(listeners, ['0.0.0.0_80']);
  const rc = routes.get('http.80')!;
  // www.other.example is outside the listener's *.shop.example: no virtual host for it.
  assert.deepEqual(rc.virtualHosts.map((v) => [v.name, v.domains]), [['www.shop.example:80', ['www.shop.example']]]);
  const r = rc.virtualHosts[0]!.routes;
  assert.deepEqual(r.map((x) => [x.name, x.match?.pathSpecifier.case, x.match?.pathSpecifier.value]), [
    ['shop.shop.1', 'path', '/cart'],
    ['shop.shop.0', 'prefix', '/'],
  ]);
  assert.deepEqual(r.map((x) => x.action.case === 'route' && x.action.value.clusterSpecifier.value), Array(2).fill('outbound|8080||shop.shop.svc.cluster.local'));
  assert.ok(clusters.includes('outbound|8080||shop.shop.svc.cluster.local'));
});

test('a router without the label (an Istio ingress gateway) does not serve a Gateway API Gateway', () => {
  assert.deepEqual(resources(router({ istio: 'ingressgateway' })).listeners, []);
});

test('gateway semantics, as istiod: a prefix matches whole segments, a prefix rewritten to "/" is stripped by a regex, a missing cluster is a 500', () => {
  const more = config.replace(`  - matches: [{path: {type: Exact, value: /cart}}]
    backendRefs: [{name: shop, port: 8080}]`, `  - matches: [{path: {type: Exact, value: /cart}}]
    backendRefs: [{name: shop, port: 8080}]
  - matches: [{path: {value: /api/}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{name: shop, port: 8080}, {name: gone, port: 8080}]`);
  const gen = createGenerator(modelOf(more), routeBuilders);
  const rc = [...gen.generate(router({ 'gateway.networking.k8s.io/gateway-name': 'edge' }), TypeUrl.RouteConfiguration, undefined)].map(([, v]) => v.message as RouteConfiguration)[0]!;
  const api = rc.virtualHosts[0]!.routes.find((r) => r.name === 'shop.shop.2')!;
  assert.deepEqual([api.match?.pathSpecifier.case, api.match?.pathSpecifier.value], ['pathSeparatedPrefix', '/api']);
  assert.ok(api.action.case === 'route');
  assert.equal(api.action.value.regexRewrite?.pattern?.regex, '^/api(/?)(.*)');
  assert.equal(api.action.value.regexRewrite?.substitution, '/\\2');
  assert.equal(api.action.value.clusterNotFoundResponseCode, 2, 'INTERNAL_SERVER_ERROR');
  assert.ok(api.action.value.clusterSpecifier.case === 'weightedClusters');
  assert.deepEqual(api.action.value.clusterSpecifier.value.clusters.map((c) => c.name), ['outbound|8080||shop.shop.svc.cluster.local', 'outbound|8080||gone.shop.svc.cluster.local']);
  // An Istio VirtualService keeps plain prefixes and the 503 default.
  const root = rc.virtualHosts[0]!.routes.find((r) => r.name === 'shop.shop.0')!;
  assert.equal(root.match?.pathSpecifier.case, 'prefix', '"/" stays a prefix');
});
