/**
 * Warming, as Envoy: a new or changed DNS cluster is put in service only once
 * its first resolution is done; until then a new one is absent and a changed
 * one's previous version serves. A DNS server that never answers (a UDP
 * socket that reads and drops) holds a cluster in warming; an IP literal
 * needs no query and warms at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { CaresDnsResolverConfigSchema } from '../../../src/gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import { compileCluster, type ClusterPlan } from '../../../src/proxy/upstream/cluster-plan.js';
import { ClusterManager } from '../../../src/proxy/upstream/cluster-manager.js';

const sa = (address: string, port: number) => ({ address: { case: 'socketAddress' as const, value: { address, portSpecifier: { case: 'portValue' as const, value: port } } } });

function plan(name: string, type: Cluster_DiscoveryType, host: string, dnsPort: number): ClusterPlan {
  const cares = create(CaresDnsResolverConfigSchema, { resolvers: [sa('127.0.0.1', dnsPort)] });
  const r = compileCluster(create(ClusterSchema, {
    name, clusterDiscoveryType: { case: 'type', value: type },
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: sa(host, 8080) } } }] }] },
    typedDnsResolverConfig: { name: 'envoy.network.dns_resolver.cares', typedConfig: anyPack(CaresDnsResolverConfigSchema, cares) },
  }));
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.value;
}

test('DNS clusters warm before they serve; the previous version serves meanwhile', async () => {
  const silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  const dnsPort = silent.address().port;
  const cm = new ClusterManager();
  try {
    cm.applyClusters([plan('c', Cluster_DiscoveryType.STATIC, '127.0.0.9', dnsPort)]);
    cm.applyClusters([plan('c', Cluster_DiscoveryType.STRICT_DNS, 'never.test', dnsPort), plan('d', Cluster_DiscoveryType.LOGICAL_DNS, 'never.test', dnsPort)]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(cm.warming, 2);
    assert.equal(cm.get('c')?.plan.type, 'STATIC', 'the previous version serves while the new one warms');
    assert.deepEqual(cm.get('c')?.hosts.map((h) => h.key), ['127.0.0.9:8080']);
    assert.equal(cm.get('d'), undefined, 'a new cluster is absent until warm');
    // A changed plan replaces the warming one; an IP literal resolves without a query.
    cm.applyClusters([plan('c', Cluster_DiscoveryType.STRICT_DNS, '127.0.0.7', dnsPort), plan('d', Cluster_DiscoveryType.LOGICAL_DNS, 'never.test', dnsPort)]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(cm.warming, 1);
    assert.equal(cm.get('c')?.plan.type, 'STRICT_DNS');
    assert.deepEqual(cm.get('c')?.hosts.map((h) => h.key), ['127.0.0.7:8080']);
    assert.equal(cm.get('c')?.stats.update_success, 1);
  } finally {
    await cm.close();
    silent.close();
  }
  assert.equal(cm.warming, 0);
});
