/**
 * VirtualService delegation as istiod merges it (issue 13, item 6): the
 * root's delegating route becomes the delegate's routes, matches narrowed
 * into the root's, the root's settings filling what a delegate route leaves
 * unset; conflicting, missing and unexported delegates drop routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import type { RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { bookinfo, modelOf, sidecarNode } from './helpers.js';

const subsets = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}]
`;

const root = (delegateNs = '') => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: api
    match: [{uri: {prefix: /api}}]
    timeout: 3s
    delegate: {name: reviews-api${delegateNs ? `, namespace: ${delegateNs}` : ''}}
  - name: rest
    route: [{destination: {host: reviews, subset: v1}}]
`;

const delegate = (ns = 'default', exportTo = '') => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-api, namespace: ${ns}}
spec:
  ${exportTo ? `exportTo: [${exportTo}]` : 'exportTo: ["*"]'}
  http:
  - name: v2
    match: [{uri: {prefix: /api/v2}, headers: {x-user: {exact: a}}}]
    route: [{destination: {host: reviews.default.svc.cluster.local, subset: v2}}]
  - name: outside
    match: [{uri: {prefix: /other}}]
    route: [{destination: {host: reviews.default.svc.cluster.local, subset: v3}}]
  - name: fallback
    timeout: 1s
    route: [{destination: {host: reviews.default.svc.cluster.local, subset: v3}}]
`;

/** The reviews virtual host's routes on 9080, as "name prefix headers → cluster timeout". */
function routes(yamlText: string): string[] {
  const gen = createGenerator(modelOf(bookinfo + subsets + yamlText), routeBuilders);
  const rc = gen.generate(sidecarNode('10.0.0.9', 'productpage-v1', 'default'), TypeUrl.RouteConfiguration, new Set(['9080'])).get('9080')!.message as RouteConfiguration;
  const vh = rc.virtualHosts.find((v) => v.name.startsWith('reviews.default'))!;
  return vh.routes.map((r) => {
    const p = r.match?.pathSpecifier;
    const path = p?.case === 'prefix' ? p.value : p?.case ?? '';
    const headers = (r.match?.headers ?? []).map((h) => h.name).join(',');
    const action = r.action.case === 'route' ? r.action.value : undefined;
    const cluster = action?.clusterSpecifier.case === 'cluster' ? action.clusterSpecifier.value : action?.clusterSpecifier.case;
    const timeout = action?.timeout ? `${Number(action.timeout.seconds)}s` : '-';
    return `${r.name} ${path} [${headers}] → ${cluster} ${timeout}`;
  });
}

test('the delegate\'s routes take the delegating route\'s place, narrowed into its match, with its timeout where they set none', () => {
  assert.deepEqual(routes(root() + delegate()), [
    'api-v2 /api/v2 [x-user] → outbound|9080|v2|reviews.default.svc.cluster.local 3s',
    'api-fallback /api [] → outbound|9080|v3|reviews.default.svc.cluster.local 1s',
    'rest / [] → outbound|9080|v1|reviews.default.svc.cluster.local 0s',
  ]);
});

test('a delegate in another namespace must be exported to the root\'s; a missing one drops only its route', () => {
  assert.equal(routes(root('team') + delegate('team', '"default"')).length, 3);
  assert.deepEqual(routes(root('team') + delegate('team', '"."')), ['rest / [] → outbound|9080|v1|reviews.default.svc.cluster.local 0s']);
  assert.deepEqual(routes(root()), ['rest / [] → outbound|9080|v1|reviews.default.svc.cluster.local 0s']);
});
