/**
 * On-demand clusters (issue 16's automatic scoping): a sidecar asking for
 * them (ENABLE_ON_DEMAND_CDS) gets a wildcard CDS without the clusters of
 * HTTP ports, those clusters by name, and Envoy's on_demand filter before
 * the router on its HTTP listeners; a sidecar that does not ask is unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { checkProxy } from '../../../src/controlplane/snapshot/consistency.js';
import { OnDemandSchema } from '../../../src/gen/envoy/extensions/filters/http/on_demand/v3/on_demand_pb.js';
import { HttpConnectionManagerSchema, type HttpConnectionManager } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { bookinfo, modelOf } from './helpers.js';

const id = 'sidecar~10.0.9.1~client.default~default.svc.cluster.local';
const onDemand = parseNodeId(id, { ENABLE_ON_DEMAND_CDS: 'true' });
const full = parseNodeId(id.replace('client', 'other'));

function hcmOf(l: Listener): HttpConnectionManager {
  const c = l.filterChains[0]!.filters[0]!.configType;
  assert.equal(c.case, 'typedConfig');
  return anyUnpack(c.value as Any, HttpConnectionManagerSchema)!;
}
const httpFilters = (l: Listener) => hcmOf(l).httpFilters.map((f) => f.name);

test('on-demand sidecar: wildcard CDS without HTTP service clusters, those by name, on_demand before the router', () => {
  const gen = createGenerator(modelOf(bookinfo), routeBuilders);
  const everything = [...gen.generate(full, TypeUrl.Cluster, undefined).keys()];
  const wildcard = [...gen.generate(onDemand, TypeUrl.Cluster, undefined).keys()];
  assert.ok(everything.includes('outbound|9080||reviews.default.svc.cluster.local'));
  assert.ok(!wildcard.some((n) => n.startsWith('outbound|9080|') || n.startsWith('outbound|9090|')), wildcard.join(' '));
  for (const n of ['PassthroughCluster', 'BlackHoleCluster', 'InboundPassthroughCluster', 'outbound|5432||db.other.svc.cluster.local']) assert.ok(wildcard.includes(n), `${n} stays: ${wildcard.join(' ')}`);
  assert.deepEqual([...gen.referencedNames(onDemand, TypeUrl.Cluster)].sort(), everything.sort(), 'it may hold every cluster, by name');
  assert.deepEqual(checkProxy(gen, onDemand), [], 'its routes name clusters it does not hold yet: not dangling, it gets them by name');

  const asked = 'outbound|9080||reviews.default.svc.cluster.local';
  const named = gen.generate(onDemand, TypeUrl.Cluster, new Set([asked, 'outbound|1||nothing.here']));
  assert.deepEqual([...named.keys()], [asked], 'a named cluster is served; an unknown name is absent');
  assert.equal(named.get(asked), gen.generate(full, TypeUrl.Cluster, undefined).get(asked), 'the same resource as everyone\'s');

  const l9080 = (node: typeof full) => gen.generate(node, TypeUrl.Listener, undefined).get('0.0.0.0_9080')!.message as Listener;
  assert.deepEqual(httpFilters(l9080(onDemand)).slice(-2), ['envoy.filters.http.on_demand', 'envoy.filters.http.router']);
  assert.ok(!httpFilters(l9080(full)).includes('envoy.filters.http.on_demand'));
  const od = anyUnpack(hcmOf(l9080(onDemand)).httpFilters.find((f) => f.name === 'envoy.filters.http.on_demand')!.configType.value as Any, OnDemandSchema)!;
  assert.equal(od.odcds?.source?.configSourceSpecifier.case, 'ads');
  assert.equal(od.odcds?.timeout?.seconds, 5n);
});

test('on-demand is not for proxyless gRPC or HBONE sidecars: they keep every cluster', () => {
  const gen = createGenerator(modelOf(bookinfo), routeBuilders);
  const grpc = parseNodeId(id, { ENABLE_ON_DEMAND_CDS: 'true', GENERATOR: 'grpc', NAMESPACE: 'default' });
  const hbone = parseNodeId(id, { ENABLE_ON_DEMAND_CDS: 'true', ENABLE_HBONE: 'true' });
  for (const node of [grpc, hbone]) {
    assert.ok([...gen.generate(node, TypeUrl.Cluster, undefined).keys()].includes('outbound|9080||reviews.default.svc.cluster.local'), node.metadata.GENERATOR ?? 'hbone');
  }
});

test('a sidecar without capture (loopback) gets on-demand clusters too: its VIP listeners hold requests like 0.0.0.0_PORT', () => {
  const gen = createGenerator(modelOf(bookinfo), routeBuilders);
  const meta = { INTERCEPTION_MODE: 'NONE', LOOPBACK_APP_IP: '127.0.0.2', LOOPBACK_SERVICE_VIEW: '127.41.0.0/16', ENABLE_ON_DEMAND_CDS: 'true' };
  const node = parseNodeId('sidecar~10.0.9.2~client.default~default.svc.cluster.local', meta);
  const wildcard = [...gen.generate(node, TypeUrl.Cluster, undefined).keys()];
  assert.ok(!wildcard.includes('outbound|9080||reviews.default.svc.cluster.local') && wildcard.includes('outbound|5432||db.other.svc.cluster.local'), wildcard.join(' '));
  const vip = gen.generate(node, TypeUrl.Listener, undefined).get('10.96.0.20_9080')!.message as Listener;
  assert.ok(httpFilters(vip).includes('envoy.filters.http.on_demand'));
});
