/**
 * Assertions shared by the route tests: every RouteConfiguration a test
 * builds goes through a binary round trip (valid protobuf) and JSON with the
 * xDS registry (every Any inside resolves), before anything else is checked.
 */
import assert from 'node:assert/strict';
import { equals, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import type { Route, VirtualHost } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { xdsRegistry } from '../../../src/xds/registry.js';

export function serialised(rc: RouteConfiguration): RouteConfiguration {
  const back = fromBinary(RouteConfigurationSchema, toBinary(RouteConfigurationSchema, rc));
  assert.ok(equals(RouteConfigurationSchema, rc, back), `binary round trip changed ${rc.name}`);
  const json = toJson(RouteConfigurationSchema, rc, { registry: xdsRegistry });
  assert.equal((json as { name?: string }).name, rc.name);
  return rc;
}

export function vhost(rc: RouteConfiguration, name: string): VirtualHost {
  const vh = rc.virtualHosts.find((v) => v.name === name);
  assert.ok(vh, `no virtual host ${name} in ${rc.virtualHosts.map((v) => v.name).join(', ')}`);
  return vh;
}

/** The route's RouteAction, failing the test when the route is not a forwarding route. */
export function actionOf(r: Route) {
  assert.equal(r.action.case, 'route', `route ${r.name} is ${r.action.case}`);
  return r.action.value as Extract<Route['action'], { case: 'route' }>['value'];
}

export function clusterOf(r: Route): string {
  const a = actionOf(r);
  assert.equal(a.clusterSpecifier.case, 'cluster');
  return a.clusterSpecifier.value as string;
}

/** YAML for a VirtualService on reviews in "default" with the given `http:` list (indented at column 0). */
export function reviewsVs(http: string, extra = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
${extra}  http:
${http.replace(/^/gm, '  ')}
`;
}
