/**
 * The DER writer and reader: values survive a round trip, openssl reads what
 * the writer writes, and the reader refuses what is not minimal, definite DER.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  children, explicit, ia5String, implicitPrimitive, octetString, oid, readBoolean, readOid, readOne, readSmallInteger,
  readTime, readTlv, sequence, setOf, smallInteger, Tag, time, tlv, unsignedInteger, utf8String, boolean,
} from '../../../src/ca/der.js';
import { openssl } from '../../helpers/openssl.js';

test('lengths: short and long forms round-trip at every boundary', () => {
  for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 70000]) {
    const value = Buffer.alloc(n, 0x5a);
    const enc = octetString(value);
    const d = readOne(enc, Tag.OCTET_STRING);
    assert.equal(d.content.length, n);
    assert.ok(d.content.equals(value));
    // Header size follows X.690 8.1.3: 2 bytes below 128, then 1 + bytes of the length.
    const header = enc.length - n;
    assert.equal(header, n < 128 ? 2 : n < 256 ? 3 : n < 65536 ? 4 : 5, `n=${n}`);
  }
});

test('OIDs round-trip, including arcs above 2^32 and the first-arc packing', () => {
  for (const o of ['1.2.840.10045.2.1', '2.5.29.17', '1.3.6.1.5.5.7.3.1', '0.9.2342.19200300.100.1.1', '2.999.1', '1.2.3.18446744073709551616']) {
    assert.equal(readOid(readOne(oid(o))), o);
  }
  assert.throws(() => oid('3.1'), RangeError);
  assert.throws(() => oid('1'), RangeError);
});

test('integers: minimal, positive, a 0x00 before a set top bit', () => {
  for (let i = 0; i < 200; i++) {
    const mag = randomBytes(1 + (i % 20));
    const d = readOne(unsignedInteger(mag), Tag.INTEGER);
    assert.equal(d.content[0]! & 0x80, 0, 'never negative');
    if (d.content.length > 1) assert.ok(d.content[0] !== 0 || (d.content[1]! & 0x80) !== 0, 'no redundant leading zero');
    assert.equal(BigInt('0x' + (d.content.toString('hex') || '0')), BigInt('0x' + mag.toString('hex')));
  }
  for (const n of [0, 1, 127, 128, 255, 256, 65535, 2 ** 31 - 1]) assert.equal(readSmallInteger(readOne(smallInteger(n))), n);
});

test('times: UTCTime through 2049, GeneralizedTime from 2050, whole seconds', () => {
  for (const iso of ['1999-12-31T23:59:59Z', '2026-03-01T00:00:00Z', '2049-12-31T23:59:59Z', '2050-01-01T00:00:00Z', '2110-07-04T12:34:56Z']) {
    const d = new Date(iso);
    const enc = time(d);
    assert.equal(enc[0], d.getUTCFullYear() < 2050 ? Tag.UTC_TIME : Tag.GENERALIZED_TIME, iso);
    assert.equal(readTime(readOne(enc)).toISOString(), d.toISOString());
  }
  assert.throws(() => readTime(readOne(tlv(Tag.UTC_TIME, Buffer.from('260230000000Z')))), /no such date/);
});

test('SET OF is sorted; booleans are 0x00/0xff', () => {
  const a = utf8String('b');
  const b = utf8String('a');
  const s = children(readOne(setOf(a, b), Tag.SET)).map((c) => c.content.toString());
  assert.deepEqual(s, ['a', 'b']);
  assert.equal(readBoolean(readOne(boolean(true))), true);
  assert.equal(readBoolean(readOne(boolean(false))), false);
  assert.throws(() => readBoolean(readOne(Buffer.from([Tag.BOOLEAN, 1, 0x01]))), /BOOLEAN/);
});

test('openssl asn1parse reads a nested structure the writer made', () => {
  const der = sequence(oid('2.5.29.17'), explicit(0, smallInteger(2)), implicitPrimitive(6, Buffer.from('spiffe://x/ns/a/sa/b')), ia5String('hi'), octetString(Buffer.alloc(300, 1)));
  const r = openssl(['asn1parse', '-inform', 'DER'], { input: der });
  assert.ok(r.ok, r.out);
  assert.match(r.out, /OBJECT\s+:X509v3 Subject Alternative Name/);
  assert.match(r.out, /cont \[ 0 \]/);
  assert.match(r.out, /INTEGER\s+:02/);
  assert.match(r.out, /IA5STRING\s+:hi/);
  assert.match(r.out, /OCTET STRING/);
  assert.doesNotMatch(r.out, /error/i);
});

test('the reader refuses what is not strict DER', () => {
  const bad: Array<[string, Buffer]> = [
    ['indefinite length', Buffer.from([0x30, 0x80, 0x00, 0x00])],
    ['non-minimal long length', Buffer.from([0x04, 0x81, 0x05, 1, 2, 3, 4, 5])],
    ['leading zero in length', Buffer.from([0x04, 0x82, 0x00, 0x81, ...Buffer.alloc(0x81)])],
    ['length past the end', Buffer.from([0x04, 0x05, 1, 2])],
    ['truncated header', Buffer.from([0x30])],
    ['multi-byte tag', Buffer.from([0x1f, 0x81, 0x01, 0x00])],
    ['huge length field', Buffer.from([0x04, 0x85, 1, 0, 0, 0, 0])],
  ];
  for (const [name, b] of bad) assert.throws(() => readTlv(b), (e: Error & { code?: string }) => e.code === 'DER_MALFORMED', name);
  assert.throws(() => readOne(Buffer.concat([octetString(Buffer.from('x')), Buffer.from([0])])), /after the value/);
  assert.throws(() => children(readOne(octetString(Buffer.from('x')))), /not constructed/);
  assert.throws(() => readOid(readOne(Buffer.from([Tag.OID, 2, 0x2a, 0x86]))), /truncated/);
  assert.throws(() => readOid(readOne(Buffer.from([Tag.OID, 3, 0x2a, 0x80, 0x01]))), /non-minimal/);
});
