import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { NodeSchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { TrellisError } from '../../../src/errors.js';
import { NODE_ID_MAX } from '../../../src/xds/node-id.js';
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

test('IPs as istiod takes them: INSTANCE_IPS when every entry is an IP, else the id\'s; either one is enough', () => {
  const ipsOf = (id: string, INSTANCE_IPS?: string) => parseNode(create(NodeSchema, { id, metadata: INSTANCE_IPS === undefined ? {} : { INSTANCE_IPS } })).ipAddresses;
  assert.deepEqual(ipsOf('sidecar~10.0.0.1~p.ns~ns.svc.cluster.local', '10.0.0.2, fd00::2'), ['10.0.0.2', 'fd00::2']);
  assert.deepEqual(ipsOf('sidecar~10.0.0.1~p.ns~ns.svc.cluster.local', '10.0.0.2,not-an-ip'), ['10.0.0.1']);
  assert.deepEqual(ipsOf('sidecar~~p.ns~ns.svc.cluster.local', '10.0.0.2'), ['10.0.0.2']);
  assert.deepEqual(ipsOf('router~fd00::7~gw.istio-system~istio-system.svc.cluster.local'), ['fd00::7']);
});

test('the namespace falls back to the domain\'s first label when POD has no namespace (istiod\'s GetProxyConfigNamespace)', () => {
  assert.equal(parseNode(create(NodeSchema, { id: 'sidecar~10.0.0.1~vm-1~shop.svc.cluster.local' })).namespace, 'shop');
});

/** The refusal for `id`: a TrellisError XDS_INVALID_NODE. */
function refusal(id: string, metadata: Record<string, string> = {}): TrellisError {
  try {
    parseNode(create(NodeSchema, { id, metadata }));
  } catch (err) {
    assert.ok(err instanceof TrellisError, String(err));
    assert.equal(err.code, 'XDS_INVALID_NODE');
    return err;
  }
  assert.fail(`${JSON.stringify(id.slice(0, 80))} was accepted`);
}

test('ids that are not Istio-shaped are refused with what is wrong and the expected shape', () => {
  const shape = /expected TYPE~IP~POD\.NAMESPACE~NAMESPACE\.svc\.DOMAIN .*sidecar~10\.1\.2\.3~reviews-v1-abc\.default~default\.svc\.cluster\.local/;
  const cases: [string, RegExp][] = [
    ['', /the node id is empty/],
    ['garbage', /has 1 part\(s\) separated by "~", not 4/],
    ['my-grpc-client', /not 4/],
    ['x~y', /has 2 part/],
    ['sidecar~10.0.0.1~p.ns~ns.svc.cluster.local~extra', /has 5 part/],
    ['gateway~10.0.0.1~p.ns~ns.svc.cluster.local', /node type "gateway" is unknown/],
    ['sidecar~10.0.0.1~~ns.svc.cluster.local', /POD\.NAMESPACE part is empty/],
    ['sidecar~10.0.0.300~p.ns~ns.svc.cluster.local', /no valid IP address: "10\.0\.0\.300" is not one, and metadata INSTANCE_IPS is not set/],
  ];
  for (const [id, why] of cases) {
    const err = refusal(id);
    assert.match(err.message, why, id);
    assert.match(err.message, shape, id);
    assert.ok(err.message.startsWith(`invalid node id ${JSON.stringify(id)}: `), err.message);
  }
  assert.match(refusal('sidecar~nope~p.ns~ns.svc.cluster.local', { INSTANCE_IPS: 'also-nope' }).message, /metadata INSTANCE_IPS "also-nope" is not a list of IP addresses/);
});

test('a huge id is refused by its length, and the message quotes only its start, escaped', () => {
  const huge = `sidecar~10.0.0.1~${'p'.repeat(200_000)}.ns~ns.svc.cluster.local`;
  const err = refusal(huge);
  assert.match(err.message, new RegExp(`is ${huge.length} characters long \\(at most ${NODE_ID_MAX}\\)`));
  assert.ok(err.message.length < 600, `message is ${err.message.length} characters`);
  assert.ok(err.message.includes(`…(${huge.length} bytes)"`), err.message);
  const forged = refusal('x\n2026-01-01T00:00:00.000Z info xds forged line\u001b[31m');
  assert.ok(!/[\n\u001b]/.test(forged.message), forged.message);
  assert.match(forged.message, /x\\n2026/);
});

test('router, waypoint and ztunnel ids are recognised', () => {
  for (const type of ['router', 'waypoint', 'ztunnel'] as const) {
    assert.equal(parseNode(create(NodeSchema, { id: `${type}~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local` })).type, type);
  }
});
