import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { decodeAll } from '../../../src/proxy/xds-client/decode-all.js';
import { listenerType, clusterType } from '../../../src/proxy/xds-client/proxy-types.js';
import { Backoff } from '../../../src/proxy/xds-client/backoff.js';
import { buildNode, nodeMetadataFromEnv } from '../../../src/proxy/xds-client/node-info.js';
import { parseNode } from '../../../src/xds/parse-node.js';

describe('xds client pieces', () => {
  test('one NACK detail lists every invalid resource with type, name and field path', () => {
    const noAddress = anyPack(ListenerSchema, create(ListenerSchema, { name: 'l1' }));
    const good = anyPack(ListenerSchema, create(ListenerSchema, {
      name: 'l2',
      address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 1 } } } },
      filterChains: [{ filters: [] }],
    }));
    const r = decodeAll(listenerType, [{ any: noAddress, name: 'l1', version: '1' }, { any: good, name: 'l2', version: '1' }, { any: undefined, name: 'l3', version: '1' }]);
    assert.equal(r.ok, false);
    assert.equal(r.ok ? '' : r.detail, 'LDS l1: address.socketAddress: missing; LDS l1: filterChains: empty and no defaultFilterChain; LDS l3: resource is empty');
  });

  test('an invalid resource with a name is rejected on its own: the valid ones are still applied', () => {
    const named = anyPack(ListenerSchema, create(ListenerSchema, { name: 'bad' }));
    const good = anyPack(ListenerSchema, create(ListenerSchema, {
      name: 'good',
      address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 1 } } } },
      filterChains: [{ filters: [] }],
    }));
    const r = decodeAll(listenerType, [{ any: named, name: undefined, version: '1' }, { any: good, name: undefined, version: '1' }, { any: good, name: undefined, version: '1' }]);
    assert.ok(!r.ok && !r.fatal);
    if (r.ok) return;
    assert.deepEqual(r.applied.map((x) => x.name), ['good']);
    assert.deepEqual([...r.rejected], ['bad']);
    assert.match(r.detail, /^LDS bad: address\.socketAddress: missing; .*; LDS good: duplicate resource good in one response$/);
    // A resource that cannot even be named rejects the whole response (Envoy's decoder does).
    const anonymous = anyPack(ListenerSchema, create(ListenerSchema, {}));
    const whole = decodeAll(listenerType, [{ any: anonymous, name: undefined, version: '1' }, { any: good, name: undefined, version: '1' }]);
    assert.ok(!whole.ok && whole.fatal);
  });

  test('a wrong type URL in the response is rejected', () => {
    const c = anyPack(ClusterSchema, create(ClusterSchema, { name: 'c' }));
    const r = decodeAll(listenerType, [{ any: c, name: 'c', version: '1' }]);
    assert.match(r.ok ? '' : r.detail, /^LDS c: type type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster in a .*Listener response$/);
  });

  test('CDS → EDS dependency names use service_name, else the cluster name', () => {
    const mk = (name: string, serviceName = '') => anyPack(ClusterSchema, create(ClusterSchema, {
      name, clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS }, edsClusterConfig: { serviceName },
    }));
    const r = decodeAll(clusterType, [{ any: mk('a'), name: 'a', version: '1' }, { any: mk('b', 'svc-b'), name: 'b', version: '1' }]);
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.deepEqual([...clusterType.dependencies![0]!.names(r.applied.map((x) => x.value as never))].sort(), ['a', 'svc-b']);
  });

  test('back-off grows exponentially with ±20 % jitter, capped, and resets', () => {
    const b = new Backoff(100, 1000);
    const d = Array.from({ length: 6 }, () => b.next());
    const nominal = [100, 200, 400, 800, 1000, 1000];
    d.forEach((v, i) => assert.ok(v >= nominal[i] * 0.8 && v <= nominal[i] * 1.2, `attempt ${i}: ${v}`));
    b.reset();
    assert.ok(b.next() <= 120);
  });

  test('node metadata from ISTIO_META_* and TRELLIS_META_*', () => {
    const env = { ISTIO_META_CLUSTER_ID: 'c1', ISTIO_META_LABELS: '{"app":"web"}', TRELLIS_META_MESH_ID: 'm', TRELLIS_LOG: 'debug', HOME: '/root' };
    assert.deepEqual(nodeMetadataFromEnv(env), { CLUSTER_ID: 'c1', LABELS: { app: 'web' }, MESH_ID: 'm' });
    const node = buildNode('sidecar~1.2.3.4~p.ns~ns.svc.cluster.local', env);
    assert.equal(node.cluster, 'c1');
    assert.equal(node.id, 'sidecar~1.2.3.4~p.ns~ns.svc.cluster.local');
    assert.equal(node.locality, undefined, 'no locality labels, no locality');
  });

  test('Node.locality from the workload labels, as pilot-agent; no overprovisioning opt-out (priorities are honoured)', () => {
    const id = 'sidecar~1.2.3.4~p.ns~ns.svc.cluster.local';
    const byIstio = buildNode(id, { ISTIO_META_LABELS: '{"app":"web","istio-locality":"us-east.us-east-1a.rack7"}' });
    assert.deepEqual([byIstio.locality?.region, byIstio.locality?.zone, byIstio.locality?.subZone], ['us-east', 'us-east-1a', 'rack7']);
    const byTopology = buildNode(id, { ISTIO_META_LABELS: '{"topology.kubernetes.io/region":"eu","topology.kubernetes.io/zone":"eu-b"}' });
    assert.deepEqual([byTopology.locality?.region, byTopology.locality?.zone, byTopology.locality?.subZone], ['eu', 'eu-b', '']);
    assert.deepEqual(byTopology.clientFeatures, []);
    // What the control plane reads back from it.
    assert.deepEqual(parseNode(byIstio).locality, { region: 'us-east', zone: 'us-east-1a', subZone: 'rack7' });
  });
});
