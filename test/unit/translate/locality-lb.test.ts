/**
 * Locality load balancing in translation (issue 13): istiod's
 * loadbalancer.go cases (priorities by the proxy's locality, `failover`,
 * `distribute`, failoverPriority with and without failover), per-proxy EDS
 * through the generator and what stays shared, and the CDS flag.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { NodeSchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { LocalityLbSetting } from '../../../src/config/objects.js';
import type { MeshEndpoint } from '../../../src/controlplane/registry/model.js';
import { lbEndpointMaker, type LocalityGroup } from '../../../src/controlplane/translate/endpoints.js';
import { localityLoadAssignment, type Asker } from '../../../src/controlplane/translate/locality/priorities.js';
import { localityLb } from '../../../src/controlplane/translate/locality/lb-setting.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { bookinfo, grpcNode, modelOf, sidecarNode, testRoutes } from './helpers.js';

const proxy: Asker = { region: 'region1', zone: 'zone1', subZone: 'subzone1', labels: {} };
let nextIp = 1;

function addresses(lle: ClusterLoadAssignment['endpoints'][number]): string[] {
  return lle.lbEndpoints.map((e) => {
    const a = e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address : undefined;
    return a?.case === 'socketAddress' ? a.value.address : '';
  });
}

/** One locality group per entry, in the given order (istiod's test clusters repeat localities). */
function groups(list: { locality: string; labels?: Record<string, string> }[]): LocalityGroup[] {
  return list.map((g) => ({
    locality: g.locality,
    endpoints: [{ address: `10.9.0.${nextIp++}`, port: 80, servicePort: 80, labels: g.labels ?? {}, namespace: 'default', ready: true } satisfies MeshEndpoint],
  }));
}

function apply(setting: LocalityLbSetting, g: LocalityGroup[], who: Asker = proxy, outlier = true): ClusterLoadAssignment {
  const lb = localityLb({ loadBalancer: { localityLbSetting: setting }, ...(outlier ? { outlierDetection: {} } : {}) });
  assert.ok(lb, 'locality load balancing applies');
  return localityLoadAssignment('c', g, lbEndpointMaker(), lb, who);
}

/** istiod's buildFakeCluster localities. */
const fake = () => groups([
  { locality: 'region1/zone1/subzone1' }, { locality: 'region1/zone1/subzone1' }, { locality: 'region1/zone1/subzone2' },
  { locality: 'region1/zone1/subzone3' }, { locality: 'region1/zone2' }, { locality: 'region2' }, { locality: 'region3' },
]);

describe('istiod loadbalancer_test.go cases', () => {
  test('Failover: all priorities (0 same subzone … 3 the failover region, 4 any other region)', () => {
    const cla = apply({ failover: [{ from: 'region1', to: 'region2' }] }, fake());
    assert.deepEqual(cla.endpoints.map((e) => e.priority), [0, 0, 1, 1, 2, 3, 4]);
  });

  test('Failover: priorities with gaps are renumbered without gaps', () => {
    const cla = apply({ failover: [{ from: 'region1', to: 'region2' }] }, groups([
      { locality: 'region1/zone1/subzone2' }, { locality: 'region2/zone1/subzone2' }, { locality: 'region2/zone1/subzone2' },
    ]));
    assert.deepEqual(cla.endpoints.map((e) => e.priority), [0, 1, 1]);
  });

  test('Failover with no locality on an endpoint, and without a failover list (the mesh default)', () => {
    assert.deepEqual(apply({ failover: [{ from: 'region1', to: 'region2' }] }, groups([
      { locality: 'region1/zone1/subzone2' }, { locality: '' }, { locality: 'region2/zone1/subzone2' },
    ])).endpoints.map((e) => e.priority), [0, 2, 1]);
    assert.deepEqual(apply({ enabled: true }, fake()).endpoints.map((e) => e.priority), [0, 0, 1, 1, 2, 3, 3]);
  });

  test('Distribute between subzones: the percentages split by weight, unmatched localities emptied', () => {
    const cla = apply({ distribute: [{ from: 'region1/zone1/subzone1', to: { 'region1/zone1/subzone1': 80, 'region1/zone1/subzone2': 15, 'region1/zone1/subzone3': 5 } }] }, fake(), proxy, false);
    assert.deepEqual(cla.endpoints.slice(0, 4).map((e) => e.loadBalancingWeight), [40, 40, 15, 5]);
    assert.deepEqual(cla.endpoints.map((e) => e.lbEndpoints.length), [1, 1, 1, 1, 0, 0, 0]);
    assert.ok(cla.endpoints.every((e) => e.priority === 0));
    // A proxy elsewhere is not matched by `from`: weights as they were.
    const other = apply({ distribute: [{ from: 'region1/zone1/subzone1', to: { 'region1/*': 100 } }] }, fake(), { ...proxy, region: 'region9' }, false);
    assert.deepEqual(other.endpoints.map((e) => e.loadBalancingWeight), [1, 1, 1, 1, 1, 1, 1]);
    // Wildcards: region1/* takes all five region1 localities, ceil(100 × 1/5) each.
    const wild = apply({ distribute: [{ from: 'region1/*', to: { 'region1/*': 100 } }] }, fake(), proxy, false);
    assert.deepEqual(wild.endpoints.map((e) => [e.loadBalancingWeight, e.lbEndpoints.length]), [[20, 1], [20, 1], [20, 1], [20, 1], [20, 1], [1, 0], [1, 0]]);
  });

  test('FailoverPriority including locality labels: network first is compared but only demotes', () => {
    const net = 'topology.istio.io/network';
    const g = groups([
      { locality: 'region1/zone1/subzone1', labels: { [net]: 'n1', region: 'region1', zone: 'zone1' } },
      { locality: 'region1/zone2/subzone2', labels: { [net]: 'n2', region: 'region1', zone: 'zone2' } },
      { locality: 'region2/zone2/subzone2', labels: { [net]: 'n1', region: 'region2', zone: 'zone2' } },
      { locality: 'region3/zone3/subzone3', labels: { [net]: 'n2', region: 'region3', zone: 'zone3' } },
      { locality: 'region2/zone2/subzone2', labels: { [net]: 'n2', region: 'region2', zone: 'zone2' } },
      { locality: 'region3/zone3/subzone3', labels: { [net]: 'n1', region: 'region3', zone: 'zone3' } },
    ]);
    const cla = apply({ failoverPriority: [net, 'region', 'zone'] }, g, { ...proxy, labels: { [net]: 'n1', region: 'region2', zone: 'zone2' } });
    assert.deepEqual(cla.endpoints.map((e) => e.priority), [1, 3, 0, 3, 2, 1]);
    assert.deepEqual(cla.endpoints.map((e) => e.loadBalancingWeight), [1, 1, 1, 1, 1, 1]);
  });

  test('FailoverPriority with Failover: label priorities composed with locality priorities', () => {
    const net = 'topology.istio.io/network';
    const g = groups([
      { locality: 'region1/zone1/subzone1', labels: { [net]: 'n1', key: 'c1' } },
      { locality: 'region1/zone2/subzone2', labels: { [net]: 'n2', key: 'c2' } },
      { locality: 'region2/zone2/subzone2', labels: { [net]: 'n1', key: 'c3' } },
      { locality: 'region3/zone3/subzone3', labels: { [net]: 'n2', key: 'c4' } },
      { locality: 'region2/zone2/subzone2', labels: { [net]: 'n2', key: 'c2' } },
      { locality: 'region3/zone3/subzone3', labels: { [net]: 'n1', key: 'c6' } },
    ]);
    const cla = apply({ failoverPriority: [net, 'key'], failover: [{ from: 'region1', to: 'region2' }] }, g, { ...proxy, labels: { [net]: 'n2', key: 'c2' } });
    assert.deepEqual(cla.endpoints.map((e) => e.priority), [3, 0, 4, 2, 1, 5]);
  });

  test('FailoverPriority splits one locality by label and overrides compare with the given value', () => {
    const g: LocalityGroup[] = [{
      locality: 'region1/zone1/subzone1',
      endpoints: [
        { address: '1.1.1.1', port: 80, servicePort: 80, labels: { net: 'n1' }, namespace: 'default', ready: true },
        { address: '2.2.2.2', port: 80, servicePort: 80, labels: { net: 'n2' }, namespace: 'default', ready: true, weight: 3 },
      ],
    }];
    const cla = apply({ failoverPriority: ['net'] }, g, { ...proxy, labels: { net: 'n2' } });
    assert.deepEqual(cla.endpoints.map((e) => [e.priority, e.loadBalancingWeight, e.lbEndpoints.length]), [[0, 3, 1], [1, 1, 1]]);
    const over = apply({ failoverPriority: ['net=n1'] }, g, { ...proxy, labels: { net: 'n2' } });
    assert.deepEqual(over.endpoints.map((e) => [e.priority, addresses(e)]), [[0, ['1.1.1.1']], [1, ['2.2.2.2']]]);
  });

  test('no locality load balancing without outlier detection or distribute, or when disabled', () => {
    assert.equal(localityLb({ loadBalancer: { localityLbSetting: { failover: [{ from: 'a', to: 'b' }] } } }), undefined);
    assert.equal(localityLb({}), undefined);
    assert.equal(localityLb({ outlierDetection: {}, loadBalancer: { localityLbSetting: { enabled: false } } }), undefined);
    assert.ok(localityLb({ outlierDetection: {} }), 'the mesh default (enabled) fails over once outlier detection is on');
  });
});

const reviews = 'reviews.default.svc.cluster.local';
const clientPods = `
---
apiVersion: v1
kind: Pod
metadata: {name: client-a, namespace: default, labels: {app: client, topology.kubernetes.io/region: eu, topology.kubernetes.io/zone: eu-a}}
status: {podIP: 10.7.0.1, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: client-b, namespace: default, labels: {app: client, topology.kubernetes.io/region: eu, topology.kubernetes.io/zone: eu-b}}
status: {podIP: 10.7.0.2, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: client-a2, namespace: default, labels: {app: client, istio-locality: eu.eu-a}}
status: {podIP: 10.7.0.3, phase: Running}
`;
const dr = (policy: string) => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
${policy}`;

function mesh(policy: string) {
  const gen = createGenerator(modelOf(bookinfo + clientPods + dr(policy)), testRoutes);
  const a = sidecarNode('10.7.0.1', 'client-a', 'default');
  const b = sidecarNode('10.7.0.2', 'client-b', 'default');
  const a2 = sidecarNode('10.7.0.3', 'client-a2', 'default');
  // No pod in the registry: the Node.locality the proxy sent is used.
  const n = parseNode(create(NodeSchema, { id: 'sidecar~10.7.0.9~vm.default~default.svc.cluster.local', locality: { region: 'eu', zone: 'eu-b' } }));
  const eds = (node: ProxyNode, name: string) => gen.generate(node, TypeUrl.ClusterLoadAssignment, gen.referencedNames(node, TypeUrl.ClusterLoadAssignment)).get(name)!;
  const cluster = (node: ProxyNode, name: string) => anyUnpack(gen.generate(node, TypeUrl.Cluster, undefined).get(name)!.any, ClusterSchema)!;
  return { a, b, a2, n, eds, cluster };
}

const priorities = (r: { any: Parameters<typeof anyUnpack>[0] }) =>
  anyUnpack(r.any, ClusterLoadAssignmentSchema)!.endpoints.map((e) => `${addresses(e).join(',')}@${e.priority}`);

describe('per-proxy EDS through the generator', () => {
  test('outlier detection alone (the mesh default) gives each proxy its own locality first', () => {
    const m = mesh('    outlierDetection: {consecutive5xxErrors: 1}');
    const name = `outbound|9080||${reviews}`;
    assert.deepEqual(priorities(m.eds(m.a, name)), ['10.0.0.1@0', '10.0.0.2@1']);
    assert.deepEqual(priorities(m.eds(m.b, name)), ['10.0.0.1@1', '10.0.0.2@0']);
    assert.deepEqual(priorities(m.eds(m.n, name)), ['10.0.0.1@1', '10.0.0.2@0'], 'Node.locality when the registry does not know the proxy');
    // Shared by locality: the same resource object for proxies in one locality, whichever label spelled it.
    assert.equal(m.eds(m.a, name), m.eds(m.a2, name));
    assert.notEqual(m.eds(m.a, name).version, m.eds(m.b, name).version);
    // A cluster without locality load balancing stays one answer for everyone.
    const ratings = 'outbound|9090||ratings.default.svc.cluster.local';
    assert.equal(m.eds(m.a, ratings), m.eds(m.b, ratings));
    // The mesh default sets no locality weighting on the cluster (istiod: it would change least-request).
    assert.equal(m.cluster(m.a, name).commonLbConfig?.localityConfigSpecifier.case, undefined);
  });

  test('without outlier detection there are no priorities and nothing per proxy', () => {
    const m = mesh('    loadBalancer: {localityLbSetting: {failover: [{from: eu, to: us}]}}');
    const name = `outbound|9080||${reviews}`;
    assert.deepEqual(priorities(m.eds(m.a, name)), ['10.0.0.1@0', '10.0.0.2@0']);
    assert.equal(m.eds(m.a, name), m.eds(m.b, name));
  });

  test('explicit failover with outlier detection: CDS gets locality_weighted_lb_config, as istiod sets it', () => {
    const m = mesh('    outlierDetection: {consecutive5xxErrors: 1}\n    loadBalancer: {localityLbSetting: {failover: [{from: eu, to: us}]}}');
    assert.equal(m.cluster(m.a, `outbound|9080||${reviews}`).commonLbConfig?.localityConfigSpecifier.case, 'localityWeightedLbConfig');
    assert.equal(m.cluster(m.a, 'outbound|9090||ratings.default.svc.cluster.local').commonLbConfig?.localityConfigSpecifier.case, undefined);
  });

  test('distribute reweights per proxy locality, with or without outlier detection', () => {
    const m = mesh('    loadBalancer: {localityLbSetting: {distribute: [{from: eu/eu-a/*, to: {eu/eu-a/*: 90, eu/eu-b/*: 10}}]}}');
    const name = `outbound|9080||${reviews}`;
    const weights = (node: ProxyNode) => anyUnpack(m.eds(node, name).any, ClusterLoadAssignmentSchema)!.endpoints.map((e) => e.loadBalancingWeight);
    assert.deepEqual(weights(m.a), [90, 10]);
    assert.deepEqual(weights(m.b), [1, 1]);
    assert.equal(m.cluster(m.a, name).commonLbConfig?.localityConfigSpecifier.case, 'localityWeightedLbConfig');
  });

  test('failoverPriority reads the proxy labels, topology labels included; proxies split by those values only', () => {
    const m = mesh('    outlierDetection: {consecutive5xxErrors: 1}\n    loadBalancer: {localityLbSetting: {failoverPriority: [topology.kubernetes.io/zone]}}');
    const name = `outbound|9080||${reviews}`;
    assert.deepEqual(priorities(m.eds(m.a, name)), ['10.0.0.1@0', '10.0.0.2@1']);
    assert.deepEqual(priorities(m.eds(m.b, name)), ['10.0.0.1@1', '10.0.0.2@0']);
    assert.equal(m.eds(m.a, name), m.eds(m.a2, name));
  });

  test('a subset takes the subset policy (port and subset merge as istiod)', () => {
    const m = mesh(`    loadBalancer: {simple: RANDOM}
  subsets:
  - name: all
    labels: {app: reviews}
    trafficPolicy: {outlierDetection: {consecutive5xxErrors: 2}}`);
    assert.deepEqual(priorities(m.eds(m.a, `outbound|9080|all|${reviews}`)), ['10.0.0.1@0', '10.0.0.2@1']);
    assert.deepEqual(priorities(m.eds(m.b, `outbound|9080|all|${reviews}`)), ['10.0.0.1@1', '10.0.0.2@0']);
    assert.equal(m.eds(m.a, `outbound|9080||${reviews}`), m.eds(m.b, `outbound|9080||${reviews}`));
  });

  test('proxyless gRPC: priorities in EDS (istiod\'s endpoint builder), no locality weighting in CDS (its gRPC generator)', () => {
    const policy = '    outlierDetection: {consecutive5xxErrors: 1}\n    loadBalancer: {localityLbSetting: {failover: [{from: eu, to: us}]}}';
    const gen = createGenerator(modelOf(bookinfo + clientPods + dr(policy)), testRoutes);
    const node = grpcNode('default', 'client-b');
    const name = `outbound|9080||${reviews}`;
    const cla = gen.generate(node, TypeUrl.ClusterLoadAssignment, new Set([name])).get(name)!;
    assert.deepEqual(priorities(cla), ['10.0.0.1@1', '10.0.0.2@0']);
    const c = anyUnpack(gen.generate(node, TypeUrl.Cluster, undefined).get(name)!.any, ClusterSchema)!;
    assert.equal(c.commonLbConfig?.localityConfigSpecifier.case, undefined);
  });
});
