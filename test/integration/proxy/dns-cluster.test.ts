/**
 * STRICT_DNS and LOGICAL_DNS clusters against a real DNS server (dnsmasq on a
 * loopback port, test/helpers/dnsmasq.ts) and the real proxy: names resolve to
 * backends on 127.0.0.2 and 127.0.0.3 (same port); records change under the
 * proxy (hosts file rewritten + SIGHUP) and traffic follows after the refresh
 * or the TTL; a failed resolution keeps the hosts; readiness waits for the
 * first resolution.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { Cluster_DnsLookupFamily } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, sleep, startProxy, type RunningProxy } from './harness.js';
import { dnsCluster, httpListener, ms, prefixRoute, routeConfig } from './xds-builders.js';
import { startDnsmasq, type Dnsmasq } from '../../helpers/dnsmasq.js';

const B2 = '127.0.0.2';
const B3 = '127.0.0.3';

/** One backend per loopback address, all on the same port (a DNS cluster's endpoint has one port). */
async function backendsOnOnePort(hosts: string[]): Promise<{ port: number; servers: http.Server[] }> {
  for (let attempt = 0; ; attempt++) {
    const servers: http.Server[] = [];
    const handler = (name: string): http.RequestListener => (req, res) => {
      const delay = req.url?.includes('/slow') ? 800 : 0;
      setTimeout(() => res.writeHead(200, { 'x-backend': name }).end(name), delay);
    };
    try {
      let port = 0;
      for (const h of hosts) {
        const s = http.createServer(handler(h));
        servers.push(s);
        await new Promise<void>((ok, fail) => s.once('error', fail).listen(port, h, ok));
        port = (s.address() as AddressInfo).port;
      }
      return { port, servers };
    } catch (e) {
      for (const s of servers) s.close();
      if (attempt >= 5) throw e;
    }
  }
}

describe('DNS clusters in the proxy (dnsmasq as the DNS server)', () => {
  const ads = new FakeAdsServer();
  let dnsd: Dnsmasq;
  let proxy: RunningProxy;
  let backends: { port: number; servers: http.Server[] };
  let port = 0;
  const records: Record<string, string[]> = { 'strict.test': [B2], 'ttl.test': [B2], 'logical.test': [B2], 'v6only.test': [B2] };

  const get = async (path: string) => {
    const r = await request(`http://127.0.0.1:${port}${path}`);
    const body = await r.body.text();
    return { status: r.statusCode, backend: r.statusCode === 200 ? body : `${r.statusCode} ${body}` };
  };
  const stat = async (name: string) => Number(new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec((await proxy.admin('/stats')).body)?.[1] ?? NaN);
  const hostsOf = async (cluster: string) => {
    const j = JSON.parse((await proxy.admin('/clusters?format=json')).body) as { cluster_statuses: Array<{ name: string; host_statuses: Array<{ address: { socket_address: { address: string } } }> }> };
    return (j.cluster_statuses.find((c) => c.name === cluster)?.host_statuses ?? []).map((h) => h.address.socket_address.address).sort();
  };
  const setRecords = (changes: Record<string, string[] | undefined>) => {
    for (const [k, v] of Object.entries(changes)) {
      if (v) records[k] = v;
      else delete records[k];
    }
    return dnsd.setRecords({ ...records });
  };

  before(async () => {
    dnsd = await startDnsmasq(records, 1);
    backends = await backendsOnOnePort([B2, B3]);
    const p = backends.port;
    const fast = { dnsRefreshRate: ms(200) };
    ads.setAll(TypeUrl.Cluster, [
      ['strict', dnsCluster('strict', 'STRICT_DNS', [['strict.test', p]], dnsd.server, fast)],
      // A 60 s refresh rate: only the 1 s TTL can make it re-resolve within the test.
      ['ttl', dnsCluster('ttl', 'STRICT_DNS', [['ttl.test', p]], dnsd.server, { dnsRefreshRate: ms(60_000), respectDnsTtl: true })],
      ['logical', dnsCluster('logical', 'LOGICAL_DNS', [['logical.test', p]], dnsd.server, fast)],
      ['v6only', dnsCluster('v6only', 'STRICT_DNS', [['v6only.test', p]], dnsd.server, { ...fast, dnsLookupFamily: Cluster_DnsLookupFamily.V6_ONLY })],
    ]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'all', domains: ['*'],
      routes: ['strict', 'ttl', 'logical', 'v6only'].map((c) => prefixRoute(`/${c}`, c)),
    }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 10_000, 'proxy ready');
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await dnsd?.stop();
    for (const s of backends?.servers ?? []) {
      s.closeAllConnections();
      s.close();
    }
  });

  test('readiness waits for the first resolution: the first request after /ready is served by the resolved host', async () => {
    assert.deepEqual(await get('/strict/first'), { status: 200, backend: B2 });
    assert.deepEqual(await get('/logical/first'), { status: 200, backend: B2 });
    assert.deepEqual(await hostsOf('strict'), [B2]);
  });

  test('dns_lookup_family V6_ONLY: a name with only an A record does not resolve (no hosts, 503)', async () => {
    assert.deepEqual(await hostsOf('v6only'), []);
    assert.equal((await get('/v6only')).status, 503);
    assert.ok((await stat('cluster.v6only.update_failure')) >= 1);
  });

  test('STRICT_DNS: every address is a host, traffic follows a changed record, in-flight requests on a host that stays finish', async () => {
    const slow = get('/strict/slow');
    await sleep(100);
    await setRecords({ 'strict.test': [B2, B3] });
    await eventually(async () => (await hostsOf('strict')).join() === `${B2},${B3}`, 5000, 'two hosts');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await get('/strict')).backend);
    assert.deepEqual([...seen].sort(), [B2, B3]);
    assert.deepEqual(await slow, { status: 200, backend: B2 });
    await setRecords({ 'strict.test': [B3] });
    await eventually(async () => (await hostsOf('strict')).join() === B3, 5000, 'B2 removed');
    for (let i = 0; i < 5; i++) assert.equal((await get('/strict')).backend, B3);
    assert.ok((await stat('cluster.strict.membership_change')) >= 2);
    // A refresh that finds the same addresses changes nothing (at the cluster's refresh rate, so wait for one).
    await eventually(async () => (await stat('cluster.strict.update_no_rebuild')) >= 1, 5000, 'update_no_rebuild');
  });

  test('a failing resolution keeps the previous hosts and counts update_failure', async () => {
    const failures = await stat('cluster.strict.update_failure');
    await setRecords({ 'strict.test': undefined });
    await eventually(async () => (await stat('cluster.strict.update_failure')) >= failures + 2, 5000, 'failures counted');
    assert.deepEqual(await hostsOf('strict'), [B3]);
    for (let i = 0; i < 3; i++) assert.deepEqual(await get('/strict'), { status: 200, backend: B3 });
    await setRecords({ 'strict.test': [B2] });
    await eventually(async () => (await get('/strict')).backend === B2, 5000, 'serves again after recovery');
  });

  test('respect_dns_ttl: re-resolved after the record\'s 1 s TTL, not the 60 s refresh rate', async () => {
    assert.equal((await get('/ttl')).backend, B2);
    await setRecords({ 'ttl.test': [B3] });
    await eventually(async () => (await get('/ttl')).backend === B3, 5000, 'ttl cluster moved to B3');
  });

  test('LOGICAL_DNS: one host, the first address of the latest resolution', async () => {
    await setRecords({ 'logical.test': [B3, B2] });
    await sleep(600);
    const hosts = await hostsOf('logical');
    assert.equal(hosts.length, 1, `one logical host, got ${hosts.join()}`);
    await setRecords({ 'logical.test': [B3] });
    await eventually(async () => (await hostsOf('logical')).join() === B3, 5000, 'logical host moved');
    for (let i = 0; i < 3; i++) assert.equal((await get('/logical')).backend, B3);
  });
});
