/**
 * A small DER (X.690) writer and reader: exactly what X.509 certificates,
 * PKCS#10 requests and their extensions need, nothing generic beyond that.
 *
 * Why by hand: signing is the CA's hot path (goal: 1,000+ CSRs/s on one
 * core), and a general ASN.1 object model costs more than the signature
 * itself. Writing is concatenating tag-length-value buffers; reading hands
 * out views into the input (no copies) and is strict DER: definite, minimal
 * lengths only, nothing past the end of the input, single-byte tags — a CSR
 * comes from the network, and lenient parsing is how two parsers start to
 * disagree about the same bytes.
 */
import { TrellisError } from '../errors.js';

/** Universal tags (and the constructed bit folded in for SEQUENCE/SET). */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

// ---------------------------------------------------------------- writing

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV; `content` may be several parts, written back to back. */
export function tlv(tag: number, content: Buffer | readonly Buffer[]): Buffer {
  const parts = Buffer.isBuffer(content) ? [content] : content;
  let len = 0;
  for (const p of parts) len += p.length;
  return Buffer.concat([Buffer.from([tag]), lengthBytes(len), ...parts]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(Tag.SEQUENCE, items);

/** SET OF: DER sorts the encoded elements (X.690 11.6). */
export const setOf = (...items: Buffer[]): Buffer => tlv(Tag.SET, [...items].sort(Buffer.compare));

/** A non-negative INTEGER from big-endian magnitude bytes (leading zeros dropped, a 0x00 added when the top bit is set). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  if (m.length === 0) return tlv(Tag.INTEGER, Buffer.from([0]));
  return tlv(Tag.INTEGER, m[0]! & 0x80 ? [Buffer.from([0]), m] : m);
}

/** A small non-negative INTEGER (versions, path lengths). */
export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`smallInteger: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Buffer.from(bytes.length ? bytes : [0]));
}

export const boolean = (v: boolean): Buffer => tlv(Tag.BOOLEAN, Buffer.from([v ? 0xff : 0x00]));
export const nullValue = (): Buffer => Buffer.from([Tag.NULL, 0]);
export const octetString = (b: Buffer): Buffer => tlv(Tag.OCTET_STRING, b);
/** A BIT STRING of whole bytes (keys, signatures). */
export const bitString = (b: Buffer, unusedBits = 0): Buffer => tlv(Tag.BIT_STRING, [Buffer.from([unusedBits]), b]);
export const utf8String = (s: string): Buffer => tlv(Tag.UTF8_STRING, Buffer.from(s, 'utf8'));
export const ia5String = (s: string): Buffer => tlv(Tag.IA5_STRING, Buffer.from(s, 'ascii'));

/** [n] EXPLICIT: a constructed context-specific wrapper around whole TLVs. */
export const explicit = (n: number, ...inner: Buffer[]): Buffer => tlv(0xa0 | n, inner);
/** [n] IMPLICIT primitive: the context tag replaces the universal one. */
export const implicitPrimitive = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

const oidCache = new Map<string, Buffer>();

/** An OBJECT IDENTIFIER from dotted text ("2.5.29.17"); encodings are cached (a CA writes the same few all day). */
export function oid(dotted: string): Buffer {
  const hit = oidCache.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`not an OID: ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n) throw new RangeError(`not an OID: ${dotted}`);
  const body: number[] = [];
  const sub = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  for (const arc of sub) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(Number(v & 0x7fn) | (chunk.length ? 0x80 : 0));
      v >>= 7n;
    } while (v > 0n);
    body.push(...chunk);
  }
  const enc = tlv(Tag.OID, Buffer.from(body));
  oidCache.set(dotted, enc);
  return enc;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, always "Z". */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(Tag.UTC_TIME, Buffer.from(pad(y % 100) + rest, 'ascii'));
  if (y < 0 || y > 9999) throw new RangeError(`date out of range for X.509: ${d.toISOString()}`);
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(pad(y, 4) + rest, 'ascii'));
}

// ---------------------------------------------------------------- reading

/** A TLV inside some input buffer; `content` and `raw` are views, not copies. */
export interface Der {
  tag: number;
  /** The value bytes. */
  content: Buffer;
  /** The whole TLV, header included (what a signature covers). */
  raw: Buffer;
}

export function malformed(what: string): TrellisError {
  return new TrellisError('DER_MALFORMED', `malformed DER: ${what}`);
}

/** Reads the TLV at `offset`; throws DER_MALFORMED on anything that is not minimal, definite DER inside `buf`. */
export function readTlv(buf: Buffer, offset = 0): Der {
  if (offset + 2 > buf.length) throw malformed('truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tags are not used in X.509');
  let len = buf[offset + 1]!;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw malformed('indefinite length');
    if (n > 4) throw malformed('length field too long');
    if (offset + 2 + n > buf.length) throw malformed('truncated length');
    if (buf[offset + 2] === 0) throw malformed('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    if (len < 0x80) throw malformed('non-minimal length');
    header += n;
  }
  const end = offset + header + len;
  if (end > buf.length) throw malformed(`length ${len} runs past the end of the input`);
  return { tag, content: buf.subarray(offset + header, end), raw: buf.subarray(offset, end) };
}

/** Reads exactly one TLV that fills `buf` (no trailing bytes), optionally checking its tag. */
export function readOne(buf: Buffer, tag?: number): Der {
  const d = readTlv(buf, 0);
  if (d.raw.length !== buf.length) throw malformed(`${buf.length - d.raw.length} bytes after the value`);
  if (tag !== undefined) expectTag(d, tag);
  return d;
}

export function expectTag(d: Der, tag: number, what = 'value'): Der {
  if (d.tag !== tag) throw malformed(`${what}: expected tag 0x${tag.toString(16)}, got 0x${d.tag.toString(16)}`);
  return d;
}

/** The TLVs inside a constructed value, in order. */
export function children(d: Der): Der[] {
  if (!(d.tag & 0x20)) throw malformed(`tag 0x${d.tag.toString(16)} is not constructed`);
  const out: Der[] = [];
  for (let off = 0; off < d.content.length; ) {
    const c = readTlv(d.content, off);
    out.push(c);
    off += c.raw.length;
  }
  return out;
}

/** The dotted text of an OBJECT IDENTIFIER. */
export function readOid(d: Der): string {
  expectTag(d, Tag.OID, 'OBJECT IDENTIFIER');
  const b = d.content;
  if (b.length === 0 || b[b.length - 1]! & 0x80) throw malformed('OBJECT IDENTIFIER: truncated');
  const arcs: bigint[] = [];
  let v = 0n;
  let first = true;
  for (let i = 0; i < b.length; i++) {
    if (first && b[i] === 0x80) throw malformed('OBJECT IDENTIFIER: non-minimal arc');
    first = false;
    v = (v << 7n) | BigInt(b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      arcs.push(v);
      v = 0n;
      first = true;
    }
  }
  const head = arcs[0]!;
  const top = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [top, head - top * 40n, ...arcs.slice(1)].join('.');
}

/** The bytes of a BIT STRING with no unused bits (keys, signatures). */
export function readBitStringBytes(d: Der): Buffer {
  expectTag(d, Tag.BIT_STRING, 'BIT STRING');
  if (d.content.length === 0) throw malformed('BIT STRING: empty');
  if (d.content[0] !== 0) throw malformed('BIT STRING: unused bits where whole bytes are expected');
  return d.content.subarray(1);
}

/** A small non-negative INTEGER (versions), as a number. */
export function readSmallInteger(d: Der): number {
  expectTag(d, Tag.INTEGER, 'INTEGER');
  const b = d.content;
  if (b.length === 0 || b.length > 4) throw malformed('INTEGER: length');
  if (b.length > 1 && b[0] === 0 && !(b[1]! & 0x80)) throw malformed('INTEGER: non-minimal');
  if (b[0]! & 0x80) throw malformed('INTEGER: negative');
  return b.readUIntBE(0, b.length);
}

export function readBoolean(d: Der): boolean {
  expectTag(d, Tag.BOOLEAN, 'BOOLEAN');
  if (d.content.length !== 1 || (d.content[0] !== 0 && d.content[0] !== 0xff)) throw malformed('BOOLEAN: not 0x00 or 0xff');
  return d.content[0] === 0xff;
}

/** UTCTime or GeneralizedTime in RFC 5280's profile (YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ). */
export function readTime(d: Der): Date {
  const s = d.content.toString('ascii');
  const m =
    d.tag === Tag.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
    : d.tag === Tag.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
    : null;
  if (!m) throw malformed(`time: ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  if (d.tag === Tag.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const t = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const back = new Date(t);
  if (back.getUTCMonth() !== Number(m[2]) - 1 || back.getUTCDate() !== Number(m[3])) throw malformed(`time: no such date ${s}`);
  return back;
}
