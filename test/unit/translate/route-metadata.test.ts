/**
 * Route metadata naming the VirtualService a route came from (issue 13 item
 * 9): istiod's BuildConfigInfoMetadata puts
 * filter_metadata.istio.config = "/apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME"
 * on every route translated from a VirtualService — what istioctl reads
 * (and the transparency work needs); Istio's own default routes carry none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import type { Route } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import { bookinfo, modelOf, sidecarNode } from './helpers.js';

const config = (route: Route) => (route.metadata?.filterMetadata['istio'] as { config?: string } | undefined)?.config;

const vs = `
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews-route, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: canary
    match: [{headers: {x-canary: {exact: "1"}}}, {uri: {prefix: /beta}}]
    route: [{destination: {host: reviews}}]
  - route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front, namespace: edge}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{route: [{destination: {host: reviews.default.svc.cluster.local, port: {number: 9080}}}]}]
`;

test('every route from a VirtualService names it (v1 whatever version it was written in); default routes name nothing', () => {
  const gen = createGenerator(modelOf(bookinfo + vs), routeBuilders);
  const node = sidecarNode('10.7.0.1', 'client', 'default');
  const rc = anyUnpack(gen.generate(node, TypeUrl.RouteConfiguration, new Set(['9080'])).get('9080')!.any, RouteConfigurationSchema)!;
  const routes = rc.virtualHosts.find((v) => v.name === 'reviews.default.svc.cluster.local:9080')!.routes;
  assert.equal(routes.length, 3, 'one route per match block, then the catch-all');
  for (const r of routes) assert.equal(config(r), '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews-route', r.name);
  const ratings = anyUnpack(gen.generate(node, TypeUrl.RouteConfiguration, new Set(['9090'])).get('9090')!.any, RouteConfigurationSchema)!;
  const fallback = ratings.virtualHosts.find((v) => v.name.startsWith('ratings.'))!.routes[0]!;
  assert.equal(fallback.name, 'default');
  assert.equal(config(fallback), undefined);
});

test('gateway routes name their bound VirtualService in its own namespace', () => {
  const gen = createGenerator(modelOf(bookinfo + vs), routeBuilders);
  const router = { ...parseNodeId('router~10.0.0.50~ingress-abc.edge~edge.svc.cluster.local'), labels: { istio: 'ingressgateway' } };
  const rc = [...gen.generate(router, TypeUrl.RouteConfiguration, undefined).values()][0]!;
  const routes = anyUnpack(rc.any, RouteConfigurationSchema)!.virtualHosts.flatMap((v) => v.routes);
  assert.ok(routes.length > 0);
  for (const r of routes) assert.equal(config(r), '/apis/networking.istio.io/v1/namespaces/edge/virtual-service/front');
});
