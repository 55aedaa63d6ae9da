import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { bookinfo, grpcNode, modelOf, sidecarNode, stateOf, testRoutes } from './helpers.js';

const reviews = 'reviews.default.svc.cluster.local';
const ratings = 'ratings.default.svc.cluster.local';
const db = 'db.other.svc.cluster.local';
const mesh = bookinfo + `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`;
const names = (s: ReadonlyMap<string, unknown>) => [...s.keys()].sort();

describe('Envoy sidecar', () => {
  const gen = createGenerator(modelOf(mesh), testRoutes);
  const client = sidecarNode('10.7.0.1', 'client', 'default');

  test('CDS wildcard: every visible service port and subset, plus the fixed clusters', () => {
    assert.deepEqual(names(gen.generate(client, TypeUrl.Cluster, undefined)), [
      'BlackHoleCluster', 'InboundPassthroughCluster', 'PassthroughCluster',
      `outbound|5432||${db}`, `outbound|9080|v1|${reviews}`, `outbound|9080|v2|${reviews}`, `outbound|9080||${reviews}`, `outbound|9090||${ratings}`,
    ]);
  });

  test('LDS wildcard: virtual listeners, 0.0.0.0_PORT for HTTP ports, VIP_PORT for TCP', () => {
    assert.deepEqual(names(gen.generate(client, TypeUrl.Listener, undefined)), ['0.0.0.0_9080', '0.0.0.0_9090', '10.96.1.1_5432', 'virtualInbound', 'virtualOutbound']);
  });

  test('RDS and EDS by name: only names that exist', () => {
    assert.deepEqual(names(gen.generate(client, TypeUrl.RouteConfiguration, new Set(['9080', '1234']))), ['9080']);
    const eds = gen.generate(client, TypeUrl.ClusterLoadAssignment, new Set([`outbound|9080|v2|${reviews}`, 'nope', 'BlackHoleCluster']));
    assert.deepEqual(names(eds), [`outbound|9080|v2|${reviews}`]);
    const cla = anyUnpack(eds.get(`outbound|9080|v2|${reviews}`)!.any, ClusterLoadAssignmentSchema)!;
    assert.equal(cla.endpoints.flatMap((l) => l.lbEndpoints).length, 1);
  });

  test('referencedNames: EDS clusters and route config names', () => {
    assert.deepEqual([...gen.referencedNames(client, TypeUrl.ClusterLoadAssignment)].sort(), [`outbound|5432||${db}`, `outbound|9080|v1|${reviews}`, `outbound|9080|v2|${reviews}`, `outbound|9080||${reviews}`, `outbound|9090||${ratings}`]);
    assert.deepEqual([...gen.referencedNames(client, TypeUrl.RouteConfiguration)], ['9080', '9090']);
    assert.deepEqual(names(gen.generate(client, TypeUrl.RouteConfiguration, undefined)), ['9080', '9090']);
  });

  test('SDS is empty for now', () => {
    assert.equal(gen.generate(client, TypeUrl.Secret, new Set(['default'])).size, 0);
  });

  test('inbound clusters and chains for the proxy own workload (found by pod name or by IP)', () => {
    for (const node of [sidecarNode('10.0.0.1', 'reviews-v1', 'default'), sidecarNode('10.0.0.1', 'unknown-name', 'default')]) {
      const cds = gen.generate(node, TypeUrl.Cluster, undefined);
      assert.ok(cds.has('inbound|9080||'), node.id);
      const vin = anyUnpack(gen.generate(node, TypeUrl.Listener, undefined).get('virtualInbound')!.any, ListenerSchema)!;
      // Blackhole, the five PERMISSIVE passthrough chains, then mTLS and plaintext for 9080.
      assert.deepEqual(vin.filterChains.map((c) => c.filterChainMatch?.destinationPort), [15006, undefined, undefined, undefined, undefined, undefined, 9080, 9080]);
    }
    assert.ok(!gen.generate(client, TypeUrl.Cluster, undefined).has('inbound|9080||'));
    const dbNode = sidecarNode('10.0.2.1', 'db-0', 'other');
    assert.ok(gen.generate(dbNode, TypeUrl.Cluster, undefined).has('inbound|15432||'), 'named targetPort resolved against the pod');
  });

  test('memoisation: asking twice, or for another proxy of the same scope, returns the same objects', () => {
    const other = sidecarNode('10.7.0.2', 'client-2', 'default');
    for (const t of [TypeUrl.Cluster, TypeUrl.Listener]) {
      const a = gen.generate(client, t, undefined);
      assert.equal(gen.generate(client, t, undefined), a);
      assert.equal(gen.generate(other, t, undefined), a);
    }
    const eds = gen.referencedNames(other, TypeUrl.ClusterLoadAssignment);
    const a = gen.generate(client, TypeUrl.ClusterLoadAssignment, eds);
    const b = gen.generate(other, TypeUrl.ClusterLoadAssignment, eds);
    assert.equal(a, b);
    // A stream's own Set with the same names gets the same Map, a partial one the same resources.
    assert.equal(gen.generate(other, TypeUrl.ClusterLoadAssignment, new Set(eds)), a);
    const partial = gen.generate(other, TypeUrl.ClusterLoadAssignment, new Set([...eds].slice(1)));
    assert.equal(partial.size, eds.size - 1);
    for (const [k, v] of partial) assert.equal(a.get(k), v, k);
    // Other namespaces without their own rules share the cluster objects.
    const inOther = gen.generate(sidecarNode('10.7.0.3', 'x', 'other'), TypeUrl.Cluster, undefined);
    assert.equal(inOther.get(`outbound|9080||${reviews}`), gen.generate(client, TypeUrl.Cluster, undefined).get(`outbound|9080||${reviews}`));
  });

  test('determinism: two builds of the same state give identical versions', () => {
    const g2 = createGenerator(buildModel(stateOf(mesh)), testRoutes);
    const g1 = createGenerator(buildModel(stateOf(mesh)), testRoutes);
    const node = sidecarNode('10.0.0.1', 'reviews-v1', 'default');
    for (const t of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration]) {
      const a = g1.generate(node, t, undefined);
      const b = g2.generate(node, t, undefined);
      assert.deepEqual(names(a), names(b));
      assert.ok(a.size > 0);
      for (const [k, v] of a) assert.equal(b.get(k)!.version, v.version, k);
    }
  });
});

describe('scoping', () => {
  const sidecar = `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: other}
spec:
  egress: [{hosts: ["./*"]}]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`;
  test('a Sidecar without spec (valid: namespace defaults) is an empty one: everything visible, no crash', () => {
    const bare = `\n---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: other}\n`;
    const gen = createGenerator(modelOf(mesh + bare), testRoutes);
    const without = createGenerator(modelOf(mesh), testRoutes);
    const node = sidecarNode('10.7.0.9', 'x', 'other');
    assert.deepEqual(names(gen.generate(node, TypeUrl.Cluster, undefined)), names(without.generate(node, TypeUrl.Cluster, undefined)));
  });

  test('a Sidecar allowing only ./* hides other namespaces; REGISTRY_ONLY sends unknown traffic to the black hole', () => {
    const gen = createGenerator(modelOf(mesh + sidecar), testRoutes);
    const node = sidecarNode('10.7.0.9', 'x', 'other');
    assert.deepEqual(names(gen.generate(node, TypeUrl.Cluster, undefined)).filter((n) => n.startsWith('outbound')), [`outbound|5432||${db}`]);
    assert.deepEqual(names(gen.generate(node, TypeUrl.Listener, undefined)), ['10.96.1.1_5432', 'virtualInbound', 'virtualOutbound']);
    assert.equal(gen.generate(node, TypeUrl.RouteConfiguration, new Set(['9080'])).size, 0);
    const vout = anyUnpack(gen.generate(node, TypeUrl.Listener, undefined).get('virtualOutbound')!.any, ListenerSchema)!;
    assert.equal(vout.defaultFilterChain?.name, 'BlackHoleFilterChain');
    // The default namespace has no Sidecar and still sees everything.
    assert.ok(gen.generate(sidecarNode('10.7.0.1', 'c', 'default'), TypeUrl.Cluster, undefined).has(`outbound|5432||${db}`));
  });

  test('exportTo "." on a service hides it from other namespaces', () => {
    const gen = createGenerator(modelOf(mesh.replace('metadata: {name: db, namespace: other}', "metadata: {name: db, namespace: other, annotations: {networking.istio.io/exportTo: '.'}}")), testRoutes);
    assert.ok(!gen.generate(sidecarNode('10.7.0.1', 'c', 'default'), TypeUrl.Cluster, undefined).has(`outbound|5432||${db}`));
    assert.ok(gen.generate(sidecarNode('10.7.0.2', 'c', 'other'), TypeUrl.Cluster, undefined).has(`outbound|5432||${db}`));
  });

  test('VirtualServices with sourceLabels make the proxy labels part of the scope (and give routes the node)', () => {
    const vs = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http: [{match: [{sourceLabels: {app: canary}}], route: [{destination: {host: reviews, subset: v2}}]}, {route: [{destination: {host: reviews}}]}]
`;
    const seen: (Record<string, string> | undefined)[] = [];
    const gen = createGenerator(modelOf(mesh + vs), { ...testRoutes, outbound: (scope, port) => (seen.push(scope.node?.labels), testRoutes.outbound(scope, port)) });
    const nodes = [{ ...sidecarNode('10.7.0.1', 'a', 'default'), labels: { app: 'canary' } }, sidecarNode('10.7.0.2', 'b', 'default')];
    const rds = nodes.map((n) => gen.generate(n, TypeUrl.RouteConfiguration, new Set(['9080'])).get('9080'));
    assert.notEqual(rds[0], undefined);
    assert.deepEqual(seen, [{ app: 'canary' }, {}]);
    // Without sourceLabels anywhere, the same two proxies share one scope and one build.
    seen.length = 0;
    const plain = createGenerator(modelOf(mesh), { ...testRoutes, outbound: (scope, port) => (seen.push(scope.node?.labels), testRoutes.outbound(scope, port)) });
    for (const n of nodes) plain.generate(n, TypeUrl.RouteConfiguration, new Set(['9080']));
    assert.deepEqual(seen, [undefined]);
  });

  test('a route builder that throws drops that resource only', () => {
    const gen = createGenerator(modelOf(mesh), { ...testRoutes, tcp: () => { throw new Error('boom'); } });
    const node = sidecarNode('10.7.0.1', 'c', 'default');
    assert.deepEqual(names(gen.generate(node, TypeUrl.Listener, undefined)), ['0.0.0.0_9080', '0.0.0.0_9090', 'virtualInbound', 'virtualOutbound']);
  });
});

describe('proxyless gRPC', () => {
  const gen = createGenerator(modelOf(mesh), testRoutes);
  const node = grpcNode('default');

  test('LDS by name "HOST:PORT" (FQDN or short name): an API listener of that name', () => {
    const lds = gen.generate(node, TypeUrl.Listener, new Set([`${ratings}:9090`, 'reviews:9080', 'reviews:1', 'nothing:80']));
    assert.deepEqual(names(lds), [`${ratings}:9090`, 'reviews:9080']);
    const l = anyUnpack(lds.get('reviews:9080')!.any, ListenerSchema)!;
    assert.equal(l.name, 'reviews:9080');
    assert.ok(l.apiListener);
  });

  test('LDS wildcard lists every visible service port; RDS names follow the listener names', () => {
    assert.deepEqual(names(gen.generate(node, TypeUrl.Listener, undefined)), [`${db}:5432`, `${ratings}:9090`, `${reviews}:9080`]);
    const rds = gen.generate(node, TypeUrl.RouteConfiguration, new Set(['reviews:9080', `${ratings}:9090`]));
    assert.deepEqual(names(rds), [`${ratings}:9090`, 'reviews:9080']);
    assert.equal((rds.get('reviews:9080')!.message as { name: string }).name, 'reviews:9080');
  });

  test('CDS: outbound EDS clusters only, no transport socket', () => {
    const cds = gen.generate(node, TypeUrl.Cluster, undefined);
    assert.deepEqual(names(cds), [`outbound|5432||${db}`, `outbound|9080|v1|${reviews}`, `outbound|9080|v2|${reviews}`, `outbound|9080||${reviews}`, `outbound|9090||${ratings}`]);
    const named = gen.generate(node, TypeUrl.Cluster, new Set([`outbound|9090||${ratings}`, 'PassthroughCluster']));
    assert.deepEqual(names(named), [`outbound|9090||${ratings}`]);
  });

  test('EDS: every locality weighted', () => {
    const eds = gen.generate(node, TypeUrl.ClusterLoadAssignment, new Set([`outbound|9090||${ratings}`]));
    const cla = anyUnpack(eds.get(`outbound|9090||${ratings}`)!.any, ClusterLoadAssignmentSchema)!;
    assert.equal(cla.endpoints.length, 2);
    for (const l of cla.endpoints) assert.ok((l.loadBalancingWeight ?? 0) > 0);
  });
});
