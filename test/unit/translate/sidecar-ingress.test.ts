/**
 * Istio's Sidecar ingress (issue 13, item 6): a workload whose Sidecar
 * declares ingress listeners serves exactly those ports — each with its own
 * protocol, to its defaultEndpoint (127.0.0.1:PORT: a STATIC cluster to the
 * app on the pod's loopback) — instead of the ports of the Services that
 * select it, which still name it for telemetry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { Cluster_DiscoveryType, type Cluster } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { bookinfo, modelOf, sidecarNode } from './helpers.js';

const sidecar = `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews-ingress, namespace: default}
spec:
  workloadSelector: {labels: {app: reviews}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:8080
  - port: {number: 7070, protocol: TCP, name: tcp-admin}
`;

function resources(yamlText: string, pod = 'reviews-v1', ip = '10.0.0.1') {
  const gen = createGenerator(modelOf(bookinfo + yamlText), routeBuilders);
  const node = sidecarNode(ip, pod, 'default');
  return { clusters: gen.generate(node, TypeUrl.Cluster, undefined), listeners: gen.generate(node, TypeUrl.Listener, undefined) };
}

test('the ingress ports are served, to the loopback endpoint or the original destination; services still named', () => {
  const { clusters, listeners } = resources(sidecar);
  const inbound = [...clusters.keys()].filter((n) => n.startsWith('inbound|')).sort();
  assert.deepEqual(inbound, ['inbound|7070||', 'inbound|9080||']);
  const http = clusters.get('inbound|9080||')!.message as Cluster;
  assert.equal(http.clusterDiscoveryType.value, Cluster_DiscoveryType.STATIC);
  const ep = http.loadAssignment!.endpoints[0]!.lbEndpoints[0]!;
  const sa = ep.hostIdentifier.case === 'endpoint' ? ep.hostIdentifier.value.address?.address : undefined;
  assert.equal(sa?.case === 'socketAddress' && `${sa.value.address}:${sa.value.portSpecifier.value}`, '127.0.0.1:8080');
  assert.deepEqual((http.metadata?.filterMetadata['istio'] as { services?: { host: string }[] } | undefined)?.services?.map((s) => s.host), ['reviews.default.svc.cluster.local']);
  assert.equal((clusters.get('inbound|7070||')!.message as Cluster).clusterDiscoveryType.value, Cluster_DiscoveryType.ORIGINAL_DST);
  const vin = listeners.get('virtualInbound')!.message as Listener;
  const ports = new Set(vin.filterChains.map((c) => c.filterChainMatch?.destinationPort).filter((p) => p !== undefined && p !== 15006));
  assert.deepEqual([...ports].sort(), [7070, 9080]);
});

test('workloads the Sidecar does not select keep their services\' ports', () => {
  const { clusters } = resources(sidecar, 'ratings-1', '10.0.1.1');
  assert.deepEqual([...clusters.keys()].filter((n) => n.startsWith('inbound|')), ['inbound|19090||']);
});
