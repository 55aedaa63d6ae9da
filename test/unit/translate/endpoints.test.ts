import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterLoadAssignment } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { buildLoadAssignment } from '../../../src/controlplane/translate/endpoints.js';
import type { MeshEndpoint } from '../../../src/controlplane/registry/model.js';
import { bookinfo, modelOf } from './helpers.js';

function addresses(cla: ClusterLoadAssignment): string[] {
  return cla.endpoints.flatMap((l) => l.lbEndpoints.map((e) => {
    const a = e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address : undefined;
    return a?.case === 'socketAddress' ? `${a.value.address}:${a.value.portSpecifier.value}` : '?';
  }));
}

const m = modelOf(bookinfo);
const reviews = m.endpoints('reviews.default.svc.cluster.local', 9080);

test('only ready endpoints; grouped by locality, sorted', () => {
  const cla = buildLoadAssignment('outbound|9080||reviews.default.svc.cluster.local', reviews);
  assert.equal(cla.clusterName, 'outbound|9080||reviews.default.svc.cluster.local');
  assert.deepEqual(addresses(cla), ['10.0.0.1:9080', '10.0.0.2:9080']);
  assert.deepEqual(cla.endpoints.map((l) => [l.locality?.region, l.locality?.zone]), [['eu', 'eu-a'], ['eu', 'eu-b']]);
});

test('slice endpoints: not-ready excluded, zone as locality', () => {
  const cla = buildLoadAssignment('x', m.endpoints('ratings.default.svc.cluster.local', 9090));
  assert.deepEqual(addresses(cla), ['10.0.1.1:19090', '10.0.1.3:19090']);
  assert.deepEqual(cla.endpoints.map((l) => l.locality?.zone), ['z1', 'z2']);
});

test('subset clusters keep only endpoints with the subset labels', () => {
  assert.deepEqual(addresses(buildLoadAssignment('x', reviews, { version: 'v2' })), ['10.0.0.2:9080']);
  assert.deepEqual(addresses(buildLoadAssignment('x', reviews, { version: 'v9' })), []);
});

test('every locality and every endpoint has a weight; a locality weighs the sum of its endpoints', () => {
  const eps: MeshEndpoint[] = [
    { address: '10.1.0.1', port: 80, servicePort: 80, labels: {}, namespace: 'a', ready: true, locality: 'r/z1', weight: 3 },
    { address: '10.1.0.2', port: 80, servicePort: 80, labels: {}, namespace: 'a', ready: true, locality: 'r/z1' },
    { address: '10.1.0.3', port: 80, servicePort: 80, labels: {}, namespace: 'a', ready: true },
  ];
  const cla = buildLoadAssignment('x', eps);
  assert.deepEqual(cla.endpoints.map((l) => [l.locality?.zone, l.loadBalancingWeight]), [['', 1], ['z1', 4]]);
  for (const l of cla.endpoints) for (const e of l.lbEndpoints) assert.ok((e.loadBalancingWeight ?? 0) >= 1);
});

test('LbEndpoint messages are shared through the cache between clusters', () => {
  const cache = new Map();
  const a = buildLoadAssignment('a', reviews, undefined, cache);
  const b = buildLoadAssignment('b', reviews, { version: 'v1' }, cache);
  assert.equal(a.endpoints[0]!.lbEndpoints[0], b.endpoints[0]!.lbEndpoints[0]);
});
