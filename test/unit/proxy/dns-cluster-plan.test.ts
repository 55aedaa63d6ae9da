import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack, DurationSchema } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_DnsLookupFamily } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { CaresDnsResolverConfigSchema } from '../../../src/gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import { compileCluster } from '../../../src/proxy/upstream/cluster-plan.js';
import { lookup, type Answer } from '../../../src/proxy/upstream/dns/lookup-family.js';
import type { LookupFamily } from '../../../src/proxy/upstream/dns/dns-plan.js';

const sa = (address: string, port: number) => ({ address: { case: 'socketAddress' as const, value: { address, portSpecifier: { case: 'portValue' as const, value: port } } } });
const lbEndpoint = (host: string, port: number) => ({ hostIdentifier: { case: 'endpoint' as const, value: { address: sa(host, port) } } });

function dnsCluster(type: Cluster_DiscoveryType, extra: Record<string, unknown> = {}, endpoints = [{ lbEndpoints: [lbEndpoint('svc.example', 443)] }]) {
  return create(ClusterSchema, { name: 'c', clusterDiscoveryType: { case: 'type', value: type }, loadAssignment: { clusterName: 'c', endpoints }, ...extra });
}

describe('DNS cluster plans', () => {
  test('STRICT_DNS: targets from load_assignment, Envoy\'s defaults (AUTO, 5 s, system resolvers)', () => {
    const r = compileCluster(dnsCluster(Cluster_DiscoveryType.STRICT_DNS));
    assert.ok(r.ok, r.ok ? '' : r.errors.join());
    if (!r.ok) return;
    assert.equal(r.value.type, 'STRICT_DNS');
    assert.deepEqual(r.value.dns?.targets.map((t) => [t.address, t.port]), [['svc.example', 443]]);
    assert.deepEqual({ ...r.value.dns, targets: undefined }, { targets: undefined, family: 'AUTO', refreshMs: 5000, respectTtl: false, failureRefresh: undefined, servers: [], serversAsFallback: false });
    assert.deepEqual(r.value.staticEndpoints, []);
  });

  test('rates, TTL, family and the c-ares resolvers (port 0 is 53, IPv6 bracketed)', () => {
    const cares = create(CaresDnsResolverConfigSchema, { resolvers: [sa('127.0.0.1', 5353), sa('::1', 0)] });
    const r = compileCluster(dnsCluster(Cluster_DiscoveryType.STRICT_DNS, {
      dnsRefreshRate: create(DurationSchema, { seconds: 60n }), respectDnsTtl: true, dnsLookupFamily: Cluster_DnsLookupFamily.V4_ONLY,
      dnsFailureRefreshRate: { baseInterval: create(DurationSchema, { seconds: 2n }) },
      typedDnsResolverConfig: { name: 'envoy.network.dns_resolver.cares', typedConfig: anyPack(CaresDnsResolverConfigSchema, cares) },
    }));
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.deepEqual({ ...r.value.dns, targets: undefined }, {
      targets: undefined, family: 'V4_ONLY', refreshMs: 60_000, respectTtl: true, failureRefresh: { baseMs: 2000, maxMs: 20_000 },
      servers: ['127.0.0.1:5353', '[::1]:53'], serversAsFallback: false,
    });
  });

  test('errors with field paths: LOGICAL_DNS with two endpoints, an unsupported resolver, a zero refresh rate', () => {
    const r = compileCluster(dnsCluster(Cluster_DiscoveryType.LOGICAL_DNS, {
      dnsRefreshRate: create(DurationSchema, {}),
      typedDnsResolverConfig: { name: 'envoy.network.dns_resolver.getaddrinfo', typedConfig: { typeUrl: 'type.googleapis.com/envoy.extensions.network.dns_resolver.getaddrinfo.v3.GetAddrInfoDnsResolverConfig', value: new Uint8Array() } },
    }, [{ lbEndpoints: [lbEndpoint('a.example', 80), lbEndpoint('b.example', 80)] }]));
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors, [
      'loadAssignment: LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint',
      'dnsRefreshRate: must be at least 1ms',
      'typedDnsResolverConfig: unsupported DNS resolver envoy.extensions.network.dns_resolver.getaddrinfo.v3.GetAddrInfoDnsResolverConfig (supported: envoy.network.dns_resolver.cares)',
    ]);
  });
});

describe('dns_lookup_family as Envoy\'s c-ares resolver runs it', () => {
  const v4: Answer[] = [{ address: '10.0.0.1', ttl: 30 }];
  const v6: Answer[] = [{ address: 'fd00::1', ttl: 10 }];
  const nodata = Object.assign(new Error('queryAaaa ENODATA'), { code: 'ENODATA' });
  /** A fake DNS answering A and AAAA as given (an Error rejects); records which queries were asked, in order. */
  const dnsWith = (a: Answer[] | Error, aaaa: Answer[] | Error) => {
    const asked: string[] = [];
    const q = (rr: 'A' | 'AAAA') => {
      asked.push(rr);
      const r = rr === 'A' ? a : aaaa;
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    };
    return { asked, q };
  };
  const cases: Array<[LookupFamily, Answer[] | Error, Answer[] | Error, string[], string[] | 'fails']> = [
    ['V4_ONLY', v4, v6, ['A'], ['10.0.0.1']],
    ['V6_ONLY', v4, v6, ['AAAA'], ['fd00::1']],
    ['V6_ONLY', v4, nodata, ['AAAA'], 'fails'],
    ['AUTO', v4, v6, ['AAAA'], ['fd00::1']],
    ['AUTO', v4, nodata, ['AAAA', 'A'], ['10.0.0.1']],
    ['AUTO', v4, [], ['AAAA', 'A'], ['10.0.0.1']],
    ['V4_PREFERRED', v4, v6, ['A'], ['10.0.0.1']],
    ['V4_PREFERRED', nodata, v6, ['A', 'AAAA'], ['fd00::1']],
    ['V4_PREFERRED', nodata, nodata, ['A', 'AAAA'], 'fails'],
    ['ALL', v4, v6, ['A', 'AAAA'], ['10.0.0.1', 'fd00::1']],
    ['ALL', nodata, v6, ['A', 'AAAA'], ['fd00::1']],
  ];
  for (const [family, a, aaaa, asked, want] of cases) {
    test(`${family}: A ${a instanceof Error ? 'fails' : a.length} AAAA ${aaaa instanceof Error ? 'fails' : aaaa.length} → ${want === 'fails' ? 'fails' : want.join(',')}`, async () => {
      const d = dnsWith(a, aaaa);
      if (want === 'fails') await assert.rejects(lookup(family, d.q), /ENODATA/);
      else assert.deepEqual((await lookup(family, d.q)).map((x) => x.address), want);
      assert.deepEqual(d.asked, asked);
    });
  }
});
