/**
 * RouteConfiguration "HOST:PORT" for proxyless gRPC, checked by the real
 * grpc-js-xds resource validator (the same decode it runs on an RDS response).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { create, toBinary } from '@bufbuild/protobuf';
import { buildGrpcRouteConfig, buildOutboundRouteConfig } from '../../../src/controlplane/translate/routes/index.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { RouteSchema, RedirectActionSchema } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { bookinfo, fqdn, scopeOf } from './fixture.js';
import { actionOf, reviewsVs, serialised, vhost } from './check.js';

interface DecodeResult {
  name: string;
  value?: unknown;
  error?: string;
}
const require = createRequire(import.meta.url);
// The package entry point sets up protobufjs's well-known types before its resource decoders load their
// protos; register() installs the HTTP filters (fault injection) a real client validates overrides with.
// This test file runs in its own process, so the global registration touches nothing else.
(require('@grpc/grpc-js-xds') as { register(): void }).register();
const { RouteConfigurationResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js') as {
  RouteConfigurationResourceType: { get(): { decode(ctx: unknown, res: { type_url: string; value: Buffer }): DecodeResult } };
};

/** What grpc-js-xds makes of our bytes: undefined when accepted, its error text otherwise. */
function grpcRejection(rc: RouteConfiguration): string | undefined {
  const value = Buffer.from(toBinary(RouteConfigurationSchema, rc));
  const res = RouteConfigurationResourceType.get().decode({ server: {} }, { type_url: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', value });
  assert.equal(res.name, rc.name);
  return res.error;
}

const reviews = fqdn('reviews');
const split = reviewsVs(`- name: to-v2
  match: [{headers: {x-canary: {exact: "yes"}}}]
  timeout: 3s
  retries: {attempts: 4, retryOn: "unavailable,resource-exhausted"}
  fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 1}}}
  corsPolicy: {allowOrigins: [{exact: "https://a.example"}]}
  route: [{destination: {host: reviews, subset: v2}}]
- name: legacy
  match: [{uri: {prefix: /old.Service/}}]
  redirect: {uri: /new}
- name: teapot
  match: [{uri: {prefix: /tea.Pot/}}]
  directResponse: {status: 418}
- name: split
  route:
  - {destination: {host: reviews, subset: v1}, weight: 90}
  - {destination: {host: reviews, subset: v2}, weight: 10}`);

describe('buildGrpcRouteConfig', () => {
  test('named HOST:PORT, one virtual host reachable by the target authority', () => {
    const rc = serialised(buildGrpcRouteConfig(scopeOf(bookinfo(split)), reviews, 9080)!);
    assert.equal(rc.name, `${reviews}:9080`);
    assert.equal(rc.virtualHosts.length, 1);
    assert.ok(rc.virtualHosts[0]!.domains.includes(`${reviews}:9080`));
    assert.ok(rc.virtualHosts[0]!.domains.includes(reviews));
  });

  test('only forwarding routes: redirect and directResponse are left out', () => {
    const routes = serialised(buildGrpcRouteConfig(scopeOf(bookinfo(split)), reviews, 9080)!).virtualHosts[0]!.routes;
    assert.deepEqual(routes.map((r) => [r.name, r.action.case]), [['to-v2', 'route'], ['split', 'route']]);
  });

  test('90/10 split: weighted clusters with a positive sum', () => {
    const routes = buildGrpcRouteConfig(scopeOf(bookinfo(split)), reviews, 9080)!.virtualHosts[0]!.routes;
    const cs = actionOf(routes[1]!).clusterSpecifier;
    assert.equal(cs.case, 'weightedClusters');
    const clusters = cs.case === 'weightedClusters' ? cs.value.clusters : [];
    assert.deepEqual(clusters.map((c) => [c.name, c.weight]), [[`outbound|9080|v1|${reviews}`, 90], [`outbound|9080|v2|${reviews}`, 10]]);
  });

  test('timeout is carried as max_stream_duration, which grpc-js-xds reads', () => {
    const routes = buildGrpcRouteConfig(scopeOf(bookinfo(split)), reviews, 9080)!.virtualHosts[0]!.routes;
    assert.equal(actionOf(routes[0]!).maxStreamDuration!.maxStreamDuration!.seconds, 3n);
    assert.equal(actionOf(routes[0]!).retryPolicy!.retryOn, 'unavailable,resource-exhausted');
  });

  test('grpc-js-xds accepts the configuration (and the default one without a VirtualService)', () => {
    assert.equal(grpcRejection(buildGrpcRouteConfig(scopeOf(bookinfo(split)), reviews, 9080)!), undefined);
    assert.equal(grpcRejection(buildGrpcRouteConfig(scopeOf(bookinfo()), fqdn('ratings'), 9090)!), undefined);
  });

  test('corsPolicy is left out for proxyless gRPC: grpc-js-xds NACKs a route config carrying a filter it lacks', () => {
    const rc = serialised(buildGrpcRouteConfig(scopeOf(bookinfo(split)), reviews, 9080)!);
    assert.deepEqual(Object.keys(rc.virtualHosts[0]!.routes[0]!.typedPerFilterConfig), ['envoy.filters.http.fault']);
    // The reason, checked: the same route with the sidecar's CORS config is rejected.
    const sidecarRoute = vhost(serialised(buildOutboundRouteConfig(scopeOf(bookinfo(split)), 9080)), `${reviews}:9080`).routes[0]!;
    rc.virtualHosts[0]!.routes[0]!.typedPerFilterConfig['envoy.filters.http.cors'] = sidecarRoute.typedPerFilterConfig['envoy.filters.http.cors']!;
    assert.match(grpcRejection(rc) ?? '', /typed_per_filter_config/);
  });

  test('the default route (no VirtualService) has no retry policy, as istiod sends proxyless clients', () => {
    const [r] = serialised(buildGrpcRouteConfig(scopeOf(bookinfo()), reviews, 9080)!).virtualHosts[0]!.routes;
    assert.equal(actionOf(r!).clusterSpecifier.value, `outbound|9080||${reviews}`);
    assert.equal(actionOf(r!).retryPolicy, undefined);
  });

  test('the grpc-js-xds check is real: it rejects a redirect route', () => {
    const rc = create(RouteConfigurationSchema, {
      name: 'bad',
      virtualHosts: [{ name: 'v', domains: ['*'], routes: [create(RouteSchema, { match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'redirect', value: create(RedirectActionSchema, {}) } })] }],
    });
    assert.match(grpcRejection(rc) ?? '', /unsupported action/);
  });

  test('unknown, invisible, or wrong-port host → undefined', () => {
    const scope = scopeOf(bookinfo());
    assert.equal(buildGrpcRouteConfig(scope, fqdn('ghost'), 9080), undefined);
    assert.equal(buildGrpcRouteConfig(scope, reviews, 1234), undefined);
    assert.equal(buildGrpcRouteConfig({ ...scope, services: scope.services.filter((s) => s.hostname !== reviews) }, reviews, 9080), undefined);
  });
});
