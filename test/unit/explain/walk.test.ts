/**
 * The explain walk on config the control plane's own translator generates
 * (no sockets): routes and why earlier ones failed, the weighted pick from a
 * seed (the router's pickTarget on the same x-request-id), NR, a fault, a
 * missing subset, and the destination's RBAC verdict with its policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { finishWalk, walkOutbound } from '../../../src/debug/explain/explain-walk.js';
import { requestIdForSeed } from '../../../src/debug/explain/request.js';
import { fnv1a } from '../../../src/proxy/util.js';
import type { ProxySnapshot, RequestSpec } from '../../../src/debug/explain/types.js';
import { bookinfo, modelOf, sidecarNode } from '../translate/helpers.js';

const config = `${bookinfo}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {x-variant: {exact: v2}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{uri: {prefix: /missing}}]
    route: [{destination: {host: reviews, subset: v9}}]
  - match: [{uri: {prefix: /fault}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /}}]
    route: [{destination: {host: reviews, subset: v1}, weight: 30}, {destination: {host: reviews, subset: v2}, weight: 70}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http: [{match: [{uri: {prefix: /only}}], route: [{destination: {host: ratings}}]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: permissive, namespace: default}
spec: {mtls: {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  action: DENY
  rules: [{to: [{operation: {paths: [/admin]}}]}]
`;

const gen = createGenerator(modelOf(config), routeBuilders);

function all<D extends DescMessage>(node: ProxyNode, type: TypeUrl, schema: D, names?: Set<string>): MessageShape<D>[] {
  return [...gen.generate(node, type, names).values()].map((r) => anyUnpack(r.any, schema)!);
}

function snapshot(ip: string, pod: string): ProxySnapshot {
  const node = sidecarNode(ip, pod, 'default');
  const listeners = all(node, TypeUrl.Listener, ListenerSchema);
  const clusters = all(node, TypeUrl.Cluster, ClusterSchema);
  const routeNames = new Set(['9080', '9090']);
  const routes = all(node, TypeUrl.RouteConfiguration, RouteConfigurationSchema, routeNames);
  const edsNames = new Set(clusters.map((c) => c.edsClusterConfig?.serviceName || c.name));
  const endpoints = all(node, TypeUrl.ClusterLoadAssignment, ClusterLoadAssignmentSchema, edsNames);
  return { label: pod, podIp: ip, dump: { bootstrap: undefined, listeners, routes, clusters, endpoints, secrets: [], problems: [] }, clusters: {} };
}

const client = snapshot('10.0.9.9', 'client');
const reviewsV2 = snapshot('10.0.0.2', 'reviews-v2');
const req = (url: string, o: Partial<RequestSpec> = {}): RequestSpec => ({ method: 'GET', url, headers: {}, ...o });
const explain = (spec: RequestSpec, dst?: ProxySnapshot) => finishWalk(walkOutbound(spec, client), dst);

test('a header match: earlier routes are none, later ones are not reached; the route cites its VirtualService field', () => {
  const e = explain(req('http://reviews:9080/', { headers: { 'x-variant': 'v2' } }));
  assert.equal(e.cluster, 'outbound|9080|v2|reviews.default.svc.cluster.local');
  assert.equal(e.routeConfiguration, '9080');
  assert.equal(e.listener, '0.0.0.0_9080');
  assert.ok(e.steps.some((s) => s.kind === 'route' && s.source === 'VirtualService default/reviews http[0].match[0]'), JSON.stringify(e.steps));
});

test('weights with a seed: the pick is the router\'s for the x-request-id the seed gives, and the failed conditions are named', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const e = explain(req('http://reviews:9080/x', { seed }));
    const draw = fnv1a(requestIdForSeed(seed)) % 100;
    assert.equal(e.request.requestId, requestIdForSeed(seed));
    assert.equal(e.cluster, `outbound|9080|${draw < 30 ? 'v1' : 'v2'}|reviews.default.svc.cluster.local`, `seed ${seed}: draw ${draw}`);
    assert.equal(e.steps.find((s) => s.kind === 'cluster')?.source, `VirtualService default/reviews http[3].route[${draw < 30 ? 0 : 1}]`);
    const route = e.steps.find((s) => s.kind === 'route')!;
    assert.match(route.why.join('\n'), /route\[0\].*failed headers .*x-variant/);
    assert.match(route.why.join('\n'), /route\[1\].*failed prefix "\/missing"/);
  }
});

test('a missing subset is 503 NC naming the cluster; a fault is its status with FI, naming the route cluster (as the proxy logs it); no route is 404 NR', () => {
  const nc = explain(req('http://reviews:9080/missing')).expected.client;
  assert.deepEqual([nc.status, nc.responseFlags, nc.responseCodeDetails, nc.upstreamCluster], [503, 'NC', 'cluster_not_found', 'outbound|9080|v9|reviews.default.svc.cluster.local']);
  const fi = explain(req('http://reviews:9080/fault')).expected.client;
  assert.deepEqual([fi.status, fi.responseFlags, fi.responseCodeDetails, fi.upstreamCluster], [418, 'FI', 'fault_filter_abort', 'outbound|9080|v1|reviews.default.svc.cluster.local']);
  const nr = explain(req('http://ratings:9090/elsewhere')).expected.client;
  assert.deepEqual([nr.status, nr.responseFlags, nr.responseCodeDetails], [404, 'NR', 'route_not_found']);
});

test('the destination\'s RBAC: a DENY rule that matches gives 403 with the policy istiod named; another path reaches the app', () => {
  const header = { 'x-variant': 'v2' };
  const denied = explain(req('http://reviews:9080/admin', { headers: header }), reviewsV2);
  assert.equal(denied.expected.server?.status, 403, JSON.stringify(denied, null, 1));
  assert.equal(denied.expected.server?.responseCodeDetails, 'rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]');
  assert.equal(denied.expected.client.status, 403);
  assert.ok(denied.steps.some((s) => s.side === 'inbound' && s.source === 'AuthorizationPolicy default/deny-admin rules[0]'));
  const ok = explain(req('http://reviews:9080/reviews/1', { headers: header }), reviewsV2);
  assert.equal(ok.expected.server?.fromApp, true, JSON.stringify(ok, null, 1));
  assert.equal(ok.expected.server?.upstreamCluster, 'inbound|9080||');
});

test('citations: the subset\'s cluster names its DestinationRule subset, the inbound chain the PeerAuthentication that set its mode', () => {
  const e = explain(req('http://reviews:9080/reviews/1', { headers: { 'x-variant': 'v2' } }), reviewsV2);
  assert.ok(e.steps.some((s) => s.kind === 'endpoint' && s.source === 'DestinationRule default/reviews subsets[1]'), JSON.stringify(e.steps, null, 1));
  const tls = e.steps.find((s) => s.kind === 'server-tls')!;
  assert.equal(tls.source, 'PeerAuthentication default/permissive mtls.mode');
  assert.match(tls.summary, /PERMISSIVE/);
});
