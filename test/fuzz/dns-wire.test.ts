/**
 * Fuzz: the DNS proxy's wire codec (src/proxy/agent/dns/wire.ts) on bytes
 * near valid queries and on arbitrary bytes. A message either parses or
 * raises DNS_MALFORMED — never another exception; what parses is what was
 * sent (id, name, type); an answer to any parsed query, with any table
 * records, is a well-formed response to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TrellisError } from '../../src/errors.js';
import { RecordType, encodeAnswer, parseQuery, type DnsQuery } from '../../src/proxy/agent/dns/wire.js';
import { fuzz, mutated } from './harness.js';

const label = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 1, maxLength: 20 });
const name = fc.array(label, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('.'));
const query = fc.record({ id: fc.integer({ min: 0, max: 0xffff }), name, type: fc.constantFrom(1, 28, 5, 16, 33, 255) }).map((q) => {
  const labels = q.name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(q.id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(q.type, 1);
  tail.writeUInt16BE(1, 3);
  return { ...q, bytes: new Uint8Array(Buffer.concat([head, ...labels, tail])) };
});

function parse(b: Uint8Array): DnsQuery | 'malformed' {
  try {
    return parseQuery(Buffer.from(b));
  } catch (err) {
    assert.ok(err instanceof TrellisError && err.code === 'DNS_MALFORMED', `not DNS_MALFORMED: ${String(err)}`);
    return 'malformed';
  }
}

test('valid queries parse to what was sent', async (t) => {
  await fuzz('dns-query-valid', fc.property(query, (q) => {
    const p = parse(q.bytes);
    assert.notEqual(p, 'malformed');
    const got = p as DnsQuery;
    assert.deepEqual({ id: got.id, name: got.name, type: got.type }, { id: q.id, name: q.name, type: q.type });
  }), 500, t);
});

test('mutated and arbitrary bytes: a query or DNS_MALFORMED; answers to what parses are responses to it', async (t) => {
  const addr = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
  const input = fc.oneof(mutated(query.map((q) => q.bytes)), fc.uint8Array({ maxLength: 80 }));
  await fuzz('dns-query-mutated', fc.property(input, fc.array(addr, { maxLength: 50 }), (bytes, ips) => {
    const p = parse(bytes);
    if (p === 'malformed') return;
    const answers = ips.map((data) => ({ name: p.name || 'x', type: RecordType.A, ttl: 30, data }));
    let out: Buffer;
    try {
      out = encodeAnswer(p, 0, answers, { authoritative: true, udpLimit: 512 });
    } catch (err) {
      // A name read from the wire may hold a label the encoder refuses: that is DNS_MALFORMED too, never a crash.
      assert.ok(err instanceof TrellisError && err.code === 'DNS_MALFORMED', String(err));
      return;
    }
    assert.ok(out.length <= 512 || out.readUInt16BE(6) === 0);
    assert.equal(out.readUInt16BE(0), p.id);
    assert.equal(out.readUInt16BE(2) & 0x8000, 0x8000);
    assert.ok(out.subarray(12, 12 + p.rawQuestion.length).equals(p.rawQuestion));
  }), 2000, t);
});
