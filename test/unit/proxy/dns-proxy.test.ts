/**
 * The agent's DNS proxy, pure parts: the lookup table as istio-agent builds
 * it from a NameTable (short forms, search-domain CNAMEs, wildcards, NODATA,
 * other types upstream), the NDS validation, and the wire codec (malformed
 * input refused with DNS_MALFORMED, truncation over UDP, IPv6 bytes).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LookupTable, checkNameTable, type NameInfo } from '../../../src/proxy/agent/dns/lookup-table.js';
import { RecordType, encodeAnswer, ipv6Bytes, parseQuery } from '../../../src/proxy/agent/dns/wire.js';
import { parseServer } from '../../../src/proxy/agent/dns/upstream.js';
import { parseResolvConf } from '../../../src/config/resolv-conf.js';
import { TrellisError } from '../../../src/errors.js';

const k8s = (name: string, ns: string, ips: string[]): NameInfo => ({ ips, registry: 'Kubernetes', shortname: name, namespace: ns, altHosts: [] });
const ext = (ips: string[]): NameInfo => ({ ips, registry: 'External', shortname: '', namespace: '', altHosts: [] });
const table = new LookupTable({
  'web.default.svc.cluster.local': k8s('web', 'default', ['10.96.0.100']),
  'db.other.svc.cluster.local': k8s('db', 'other', ['10.96.0.7', 'fd00::7']),
  'api.example.com': ext(['240.240.1.2']),
  '*.wild.example.com': ext(['240.240.3.4']),
}, { namespace: 'default', domainSuffix: 'cluster.local', search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'] });
const ips = (name: string, type: number = RecordType.A) => {
  const r = table.lookup(name, type);
  return r.found ? r.answers.map((a) => `${a.type === RecordType.CNAME ? 'CNAME ' : ''}${a.data}`) : undefined;
};

describe('lookup table (istio-agent\'s)', () => {
  test('a Service: FQDN, NAME.NS, NAME.NS.svc, and NAME only in the proxy\'s own namespace', () => {
    for (const n of ['web.default.svc.cluster.local', 'web.default', 'web.default.svc', 'web']) assert.deepEqual(ips(n), ['10.96.0.100'], n);
    for (const n of ['db.other.svc.cluster.local', 'db.other', 'db.other.svc']) assert.deepEqual(ips(n), ['10.96.0.7'], n);
    assert.equal(ips('db'), undefined, 'another namespace\'s Service has no bare short name');
  });

  test('a name with the first search domain appended is a CNAME to the name, with its addresses', () => {
    assert.deepEqual(ips('api.example.com.default.svc.cluster.local'), ['CNAME api.example.com', '240.240.1.2']);
    assert.deepEqual(ips('db.other.default.svc.cluster.local'), ['CNAME db.other', '10.96.0.7']);
    assert.equal(ips('api.example.com.svc.cluster.local'), undefined, 'only the first search domain');
  });

  test('AAAA: the IPv6 addresses, or NODATA (found, no records) for a name without any', () => {
    assert.deepEqual(ips('db.other', RecordType.AAAA), ['fd00::7']);
    assert.deepEqual(table.lookup('api.example.com', RecordType.AAAA), { found: true, answers: [] });
  });

  test('wildcard hosts answer names under them, not the bare domain; other names and types are not the table\'s', () => {
    assert.deepEqual(ips('a.wild.example.com'), ['240.240.3.4']);
    assert.deepEqual(ips('a.b.wild.example.com'), ['240.240.3.4']);
    assert.equal(ips('wild.example.com'), undefined);
    assert.equal(ips('example.org'), undefined);
    assert.equal(table.lookup('api.example.com', 16 /* TXT */).found, false);
  });

  test('records carry istio-agent\'s 30 s TTL', () => {
    const r = table.lookup('web', RecordType.A);
    assert.ok(r.found && r.answers.every((a) => a.ttl === 30));
  });

  test('a NameTable with a bad address or host name is refused with field paths', () => {
    assert.deepEqual(checkNameTable({ 'ok.example.com': ext(['1.2.3.4']) }), []);
    assert.deepEqual(checkNameTable({ 'x.example.com': ext(['1.2.3.4', 'nope']), 'bad host!': ext([]) }), [
      'table["x.example.com"].ips[1]: "nope" is not an IP address',
      'table["bad host!"]: not a host name',
    ]);
  });
});

/** A query for `name` of `type`, as a stub resolver writes it (id 0x1234, RD). */
function query(name: string, type: number): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, tail]);
}

describe('wire codec', () => {
  test('a query: id, name lower-cased, type, the question as sent', () => {
    const q = parseQuery(query('Web.Default', RecordType.AAAA));
    assert.deepEqual({ id: q.id, name: q.name, type: q.type, qclass: q.qclass }, { id: 0x1234, name: 'web.default', type: RecordType.AAAA, qclass: 1 });
    assert.ok(q.rawQuestion.includes(Buffer.from('Web')));
  });

  test('malformed messages are DNS_MALFORMED, never another exception', () => {
    const bad = [
      Buffer.alloc(5),
      Buffer.from([0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]), // a response
      Buffer.from([0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // no question
      Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, 0x61]), // label past the end
      Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]), // pointer to itself
      Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 1, 0, 1]), // extended label type
    ];
    for (const b of bad) assert.throws(() => parseQuery(b), (e: unknown) => e instanceof TrellisError && e.code === 'DNS_MALFORMED', b.toString('hex'));
  });

  test('an answer: QR, AA, RA, the client\'s RD and id; truncated with TC when it does not fit a UDP limit', () => {
    const q = parseQuery(query('many.example.com', RecordType.A));
    const answers = Array.from({ length: 40 }, (_, i) => ({ name: 'many.example.com', type: RecordType.A, ttl: 30, data: `10.0.0.${i}` } as const));
    const full = encodeAnswer(q, 0, answers, { authoritative: true });
    assert.equal(full.readUInt16BE(0), 0x1234);
    assert.equal(full.readUInt16BE(2), 0x8580);
    assert.equal(full.readUInt16BE(6), 40);
    const cut = encodeAnswer(q, 0, answers, { authoritative: true, udpLimit: 512 });
    assert.equal(cut.readUInt16BE(2) & 0x0200, 0x0200, 'TC');
    assert.equal(cut.readUInt16BE(6), 0);
    assert.ok(cut.length <= 512);
  });

  test('IPv6 literals to bytes', () => {
    assert.equal(ipv6Bytes('2001:2::1a').toString('hex'), '2001000200000000000000000000001a');
    assert.equal(ipv6Bytes('::ffff:10.0.0.1').toString('hex'), '00000000000000000000ffff0a000001');
    assert.equal(ipv6Bytes('fd00:1:2:3:4:5:6:7').toString('hex'), 'fd000001000200030004000500060007');
  });
});

describe('resolv.conf and upstream servers', () => {
  test('nameservers (IP literals only) and the last search line', () => {
    const c = parseResolvConf('# kubelet\nnameserver 10.96.0.10\nnameserver bogus\nsearch a b\nsearch default.svc.cluster.local svc.cluster.local ; x\nnameserver fd00::a\noptions ndots:5\n');
    assert.deepEqual(c, { nameservers: ['10.96.0.10', 'fd00::a'], search: ['default.svc.cluster.local', 'svc.cluster.local'] });
  });

  test('--dns-upstream entries: IP, IP:PORT, [IPv6]:PORT; anything else is refused', () => {
    assert.deepEqual(parseServer('10.0.0.1'), { address: '10.0.0.1', port: 53 });
    assert.deepEqual(parseServer('127.0.0.1:5353'), { address: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseServer('[fd00::a]:54'), { address: 'fd00::a', port: 54 });
    assert.deepEqual(parseServer('fd00::a'), { address: 'fd00::a', port: 53 });
    for (const bad of ['dns.example.com', '10.0.0.1:0', '10.0.0.1:99999', '[fd00::a']) assert.equal(parseServer(bad), undefined, bad);
  });
});
