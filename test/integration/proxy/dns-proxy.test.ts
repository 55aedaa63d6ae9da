/**
 * The agent's DNS proxy on real sockets (issue 13, item 2): the server
 * (UDP and TCP on one port) with a name table, real clients — node:dns's
 * c-ares Resolver and dig — and a real upstream resolver (dnsmasq on a
 * loopback port) for the names it does not own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { DnsServer, dnsMetricsText } from '../../../src/proxy/agent/dns/dns-server.js';
import { Upstream, parseServer } from '../../../src/proxy/agent/dns/upstream.js';
import type { NameInfo } from '../../../src/proxy/agent/dns/lookup-table.js';
import { logger } from '../../../src/log.js';
import { startDnsmasq, type Dnsmasq } from '../../helpers/dnsmasq.js';

const run = promisify(execFile);
const hasDnsmasq = spawnSync('sh', ['-c', 'command -v dnsmasq']).status === 0;
const hasDig = spawnSync('sh', ['-c', 'command -v dig']).status === 0;
const ext = (ips: string[]): NameInfo => ({ ips, registry: 'External', shortname: '', namespace: '', altHosts: [] });
const MANY = Array.from({ length: 60 }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);

describe('the agent\'s DNS proxy', { skip: !hasDnsmasq && 'needs dnsmasq', timeout: 60_000 }, () => {
  let upstream: Dnsmasq;
  let server: DnsServer;
  let port = 0;
  const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });

  before(async () => {
    upstream = await startDnsmasq({ 'outside.example.test': ['192.0.2.10'], 'api.example.com': ['192.0.2.99'] });
    server = new DnsServer({
      address: '127.0.0.1', port: 0, upstream: new Upstream([parseServer(upstream.server)!], 500),
      proxy: { namespace: 'default', domainSuffix: 'cluster.local', search: ['default.svc.cluster.local'] }, log: logger('dns'),
    });
    port = await server.start();
    server.setTable({
      'web.default.svc.cluster.local': { ips: ['10.96.0.100'], registry: 'Kubernetes', shortname: 'web', namespace: 'default', altHosts: [] },
      'api.example.com': ext(['240.240.1.2', '2001:2::102']),
      'many.example.com': ext(MANY),
    });
    resolver.setServers([`127.0.0.1:${port}`]);
  });

  after(async () => {
    await server?.close();
    await upstream?.stop();
  });

  test('names in the table are answered by the proxy (the upstream would say otherwise), both families', async () => {
    assert.deepEqual(await resolver.resolve4('api.example.com'), ['240.240.1.2']);
    assert.deepEqual(await resolver.resolve6('api.example.com'), ['2001:2::102']);
    assert.deepEqual(await resolver.resolve4('web'), ['10.96.0.100']);
    assert.deepEqual(await resolver.resolve4('web.default.svc'), ['10.96.0.100']);
    assert.deepEqual(await resolver.resolve4('api.example.com', { ttl: true }), [{ address: '240.240.1.2', ttl: 30 }]);
  });

  test('other names are forwarded to the upstream and its answer relayed; its NXDOMAIN too', async () => {
    const before = server.stats.forwarded;
    assert.deepEqual(await resolver.resolve4('outside.example.test'), ['192.0.2.10']);
    await assert.rejects(resolver.resolve4('nowhere.example.test'), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND' || e.code === 'EREFUSED');
    assert.equal(server.stats.forwarded, before + 2);
  });

  test('an answer too large for UDP is truncated, and the client gets it whole over TCP', async () => {
    const got = await resolver.resolve4('many.example.com');
    assert.deepEqual([...got].sort(), [...MANY].sort());
  });

  test('a message that is not a query gets FORMERR with its id; a message without an id gets nothing', async () => {
    const sock = createSocket('udp4');
    try {
      const answer = new Promise<Buffer>((resolve) => sock.once('message', (m) => resolve(m)));
      sock.send(Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1]), port, '127.0.0.1');
      const m = await answer;
      assert.equal(m.readUInt16BE(0), 0xabcd);
      assert.equal(m.readUInt16BE(2) & 0x800f, 0x8001);
      const before = server.stats.malformed;
      sock.send(Buffer.from([7]), port, '127.0.0.1');
      const nothing = await Promise.race([new Promise((r) => sock.once('message', () => r('answered'))), new Promise((r) => setTimeout(() => r('silent'), 300))]);
      assert.equal(nothing, 'silent');
      assert.equal(server.stats.malformed, before + 1);
    } finally {
      sock.close();
    }
  });

  test('istio-agent\'s DNS counters: every query, the forwarded ones, the failed ones', () => {
    const text = dnsMetricsText(server.stats);
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('istio_agent_dns_requests_total'), server.stats.queries);
    assert.ok(value('istio_agent_dns_requests_total') > value('istio_agent_dns_upstream_requests_total'), 'own answers are not forwarded');
    assert.equal(value('istio_agent_dns_upstream_requests_total'), server.stats.forwarded);
    assert.equal(value('istio_agent_dns_upstream_failures_total'), 0);
  });

  test('an upstream that does not answer: SERVFAIL within the timeout', async () => {
    const dead = new DnsServer({
      address: '127.0.0.1', port: 0, upstream: new Upstream([{ address: '127.0.0.1', port: 9 }], 200),
      proxy: { namespace: 'default', domainSuffix: 'cluster.local', search: [] }, log: logger('dns'),
    });
    const p = await dead.start();
    try {
      const r = new dns.Resolver({ timeout: 2000, tries: 1 });
      r.setServers([`127.0.0.1:${p}`]);
      const started = Date.now();
      await assert.rejects(r.resolve4('outside.example.test'), (e: NodeJS.ErrnoException) => e.code === 'ESERVFAIL');
      assert.ok(Date.now() - started < 1500);
      assert.equal(dead.stats.upstreamFailures, 1);
    } finally {
      await dead.close();
    }
  });

  test('dig over UDP and TCP', { skip: !hasDig && 'needs dig (bind9-dnsutils)' }, async () => {
    // Asynchronously: the server answers from this process's event loop.
    const dig = async (...args: string[]) => (await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', ...args], { timeout: 10_000 })).stdout;
    for (const transport of ['+notcp', '+tcp']) {
      assert.equal((await dig(transport, '+short', 'api.example.com', 'A')).trim(), '240.240.1.2', transport);
      assert.equal((await dig(transport, '+short', 'outside.example.test', 'A')).trim(), '192.0.2.10', transport);
    }
    const full = await dig('web.default.default.svc.cluster.local', 'A');
    assert.match(full, /flags: qr aa rd ra/, 'authoritative for its own names');
    assert.match(full, /CNAME\s+web\.default\./, 'the search-domain expansion is a CNAME');
  });
});
