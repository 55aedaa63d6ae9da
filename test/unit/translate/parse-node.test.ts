import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { NodeSchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { parseNode } from '../../../src/xds/parse-node.js';

test('Istio sidecar id: type, IP, pod, namespace, domain; metadata flattened; LABELS', () => {
  const n = parseNode(create(NodeSchema, {
    id: 'sidecar~10.1.2.3~reviews-v1-abc.bookinfo~bookinfo.svc.cluster.local',
    metadata: { LABELS: { app: 'reviews', version: 'v1' }, INSTANCE_IPS: '10.1.2.3,fd00::1', CLUSTER_ID: 'Kubernetes', PROXY_CONFIG: { concurrency: 2 }, ISTIO_VERSION: '1.22' },
  }));
  assert.equal(n.type, 'sidecar');
  assert.deepEqual(n.ipAddresses, ['10.1.2.3', 'fd00::1']);
  assert.equal(n.podName, 'reviews-v1-abc');
  assert.equal(n.namespace, 'bookinfo');
  assert.equal(n.dnsDomain, 'bookinfo.svc.cluster.local');
  assert.deepEqual(n.labels, { app: 'reviews', version: 'v1' });
  assert.equal(n.metadata['CLUSTER_ID'], 'Kubernetes');
  assert.equal(n.metadata['PROXY_CONFIG'], '{"concurrency":2}');
  assert.equal(n.generator, 'envoy');
});

test('metadata NAMESPACE overrides the id; GENERATOR=grpc', () => {
  const n = parseNode(create(NodeSchema, { id: 'sidecar~10.0.0.9~client.a~a.svc.cluster.local', metadata: { NAMESPACE: 'b', GENERATOR: 'grpc' } }));
  assert.equal(n.namespace, 'b');
  assert.equal(n.generator, 'grpc');
});

test('an id that is not Istio-shaped: the id is the pod name, namespace from metadata or "default"', () => {
  const a = parseNode(create(NodeSchema, { id: 'my-grpc-client', metadata: { NAMESPACE: 'shop' } }));
  assert.equal(a.podName, 'my-grpc-client');
  assert.equal(a.namespace, 'shop');
  assert.equal(a.type, 'sidecar');
  assert.deepEqual(a.ipAddresses, []);
  const b = parseNode(create(NodeSchema, { id: 'x~y' }));
  assert.equal(b.namespace, 'default');
  assert.equal(b.podName, 'x~y');
  assert.deepEqual(b.labels, {});
});

test('router ids are recognised', () => {
  assert.equal(parseNode(create(NodeSchema, { id: 'router~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local' })).type, 'router');
});
