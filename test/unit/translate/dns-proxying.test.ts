/**
 * The control plane's side of Istio's DNS proxying (issue 13, item 2):
 * auto-allocated ServiceEntry addresses used by proxies that capture DNS
 * (their listeners, as istiod's nodeUsesAutoallocatedIPs decides), the NDS
 * name table per proxy, and istiod's DNS cluster settings.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_DnsLookupFamily } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { CaresDnsResolverConfigSchema } from '../../../src/gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import { NameTableSchema, type NameTable } from '../../../src/gen/networking/nds/v1/nds_pb.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { bookinfo, modelOf, sidecarNode, testRoutes } from './helpers.js';

const entries = `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: tcp-ext, namespace: default}
spec: {hosts: [tcp.example.com], ports: [{number: 7001, name: tcp, protocol: TCP}], resolution: STATIC, endpoints: [{address: 10.9.9.9}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: dns-ext, namespace: default}
spec: {hosts: [dns.example.com], ports: [{number: 7002, name: tcp, protocol: TCP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rr-ext, namespace: default}
spec: {hosts: [rr.example.com], ports: [{number: 7003, name: http, protocol: HTTP}], resolution: DNS_ROUND_ROBIN}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: none-ext, namespace: default}
spec: {hosts: [none.example.com], ports: [{number: 7004, name: tcp, protocol: TCP}], resolution: NONE}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: addressed, namespace: default}
spec: {hosts: [fixed.example.com], addresses: [192.0.2.7], ports: [{number: 7005, name: tcp, protocol: TCP}], resolution: STATIC, endpoints: [{address: 10.9.9.8}]}
`;
const model = modelOf(bookinfo + entries);
const capturing = (ip = '10.7.0.1'): ProxyNode => parseNodeId(`sidecar~${ip}~client.default~default.svc.cluster.local`, { DNS_CAPTURE: 'true' });
const plain = sidecarNode('10.7.0.2', 'other', 'default');
const auto = (host: string) => model.service(host)!.autoAddresses!;

function nameTable(node: ProxyNode): NameTable {
  const set = createGenerator(model, testRoutes).generate(node, TypeUrl.NameTable, undefined);
  assert.deepEqual([...set.keys()], [''], 'one unnamed NameTable, as istiod sends it');
  return anyUnpack(set.get('')!.any, NameTableSchema)!;
}

describe('auto-allocated addresses in listeners', () => {
  test('a proxy that captures DNS gets VIP_PORT listeners on the allocated addresses of STATIC and DNS entries', () => {
    const names = [...createGenerator(model, testRoutes).generate(capturing(), TypeUrl.Listener, undefined).keys()];
    assert.ok(names.includes(`${auto('tcp.example.com')[0]}_7001`), names.join());
    assert.ok(names.includes(`${auto('dns.example.com')[0]}_7002`), names.join());
    assert.ok(names.includes('192.0.2.7_7005'), 'declared addresses as before');
    assert.ok(!names.some((n) => n.endsWith('_7004')), 'resolution NONE: nothing allocated, no listener');
  });

  test('a proxy that does not capture DNS sees no allocated address (its app cannot have learnt one)', () => {
    const names = [...createGenerator(model, testRoutes).generate(plain, TypeUrl.Listener, undefined).keys()];
    assert.ok(!names.some((n) => n.startsWith('240.240.')), names.join());
    assert.ok(names.includes('192.0.2.7_7005'));
  });

  test('an IPv6-only proxy that captures DNS listens on the IPv6 allocation', () => {
    const names = [...createGenerator(model, testRoutes).generate(capturing('fd00::7'), TypeUrl.Listener, undefined).keys()];
    assert.ok(names.includes(`${auto('tcp.example.com')[1]}_7001`), names.join());
  });
});

describe('NDS name table', () => {
  test('a capturing proxy: Services with short forms, entries by their (allocated) address, NONE without endpoints left out', () => {
    const t = nameTable(capturing()).table;
    assert.deepEqual(Object.keys(t), Object.keys(t).slice().sort(), 'hosts in sorted order (stable versions)');
    const reviews = t['reviews.default.svc.cluster.local']!;
    assert.deepEqual({ ips: reviews.ips, registry: reviews.registry, shortname: reviews.shortname, namespace: reviews.namespace }, { ips: ['10.96.0.20'], registry: 'Kubernetes', shortname: 'reviews', namespace: 'default' });
    const tcp = t['tcp.example.com']!;
    assert.deepEqual({ ips: tcp.ips, registry: tcp.registry, shortname: tcp.shortname }, { ips: [auto('tcp.example.com')[0]], registry: 'External', shortname: '' });
    assert.deepEqual(t['dns.example.com']!.ips, [auto('dns.example.com')[0]]);
    assert.deepEqual(t['fixed.example.com']!.ips, ['192.0.2.7']);
    assert.equal(t['none.example.com'], undefined);
  });

  test('a proxy without DNS capture: entries without addresses are not in its table', () => {
    const t = nameTable(plain).table;
    assert.equal(t['tcp.example.com'], undefined);
    assert.deepEqual(t['fixed.example.com']!.ips, ['192.0.2.7']);
    assert.ok(t['reviews.default.svc.cluster.local']);
  });

  test('a headless Service is answered with its ready endpoints', () => {
    const m = modelOf(bookinfo.replace('clusterIP: 10.96.0.20', 'clusterIP: None'));
    const set = createGenerator(m, testRoutes).generate(capturing(), TypeUrl.NameTable, undefined);
    const t = anyUnpack(set.get('')!.any, NameTableSchema)!.table;
    const ips = t['reviews.default.svc.cluster.local']!.ips;
    assert.ok(ips.length > 0 && ips.every((ip) => ip.startsWith('10.0.0.')), ips.join());
    assert.deepEqual(ips, [...ips].sort());
  });

  test('routers get no table (DNS proxying is for sidecars)', () => {
    const router = parseNodeId('router~10.7.0.9~gw.default~default.svc.cluster.local', { DNS_CAPTURE: 'true' });
    assert.equal(createGenerator(model, testRoutes).generate(router, TypeUrl.NameTable, undefined).size, 0);
  });
});

describe('DNS clusters as istiod builds them', () => {
  const cluster = (node: ProxyNode, name: string) => anyUnpack(createGenerator(model, testRoutes).generate(node, TypeUrl.Cluster, undefined).get(name)!.any, ClusterSchema)!;

  test('resolution DNS: STRICT_DNS with the proxy\'s family, the mesh\'s 60 s refresh, TTLs respected, c-ares', () => {
    const c = cluster(plain, 'outbound|7002||dns.example.com');
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.STRICT_DNS);
    assert.equal(c.dnsLookupFamily, Cluster_DnsLookupFamily.V4_ONLY);
    assert.equal(Number(c.dnsRefreshRate?.seconds), 60);
    assert.equal(c.respectDnsTtl, true);
    assert.equal(c.typedDnsResolverConfig?.name, 'envoy.network.dns_resolver.cares');
    assert.equal(anyUnpack(c.typedDnsResolverConfig!.typedConfig!, CaresDnsResolverConfigSchema)!.udpMaxQueries, 100);
  });

  test('resolution DNS_ROUND_ROBIN: LOGICAL_DNS (one name, one host at a time), not STRICT_DNS', () => {
    const c = cluster(plain, 'outbound|7003||rr.example.com');
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.LOGICAL_DNS);
    assert.equal(c.loadAssignment!.endpoints.length, 1);
    assert.equal(c.loadAssignment!.endpoints[0]!.lbEndpoints.length, 1);
    assert.equal(c.respectDnsTtl, true);
  });

  test('an IPv6-only proxy resolves V6_ONLY; other clusters are the same for both families', () => {
    const v6 = capturing('fd00::7');
    assert.equal(cluster(v6, 'outbound|7002||dns.example.com').dnsLookupFamily, Cluster_DnsLookupFamily.V6_ONLY);
    assert.equal(cluster(v6, 'outbound|7001||tcp.example.com').clusterDiscoveryType.value, Cluster_DiscoveryType.EDS);
  });
});
