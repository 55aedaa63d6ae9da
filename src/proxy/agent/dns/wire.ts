/**
 * The little of the DNS wire format (RFC 1035) the agent's DNS proxy needs:
 * read a query's header and first question, and write an answer to it with
 * A, AAAA and CNAME records. Forwarded queries and their answers are relayed
 * as bytes and never parsed beyond the header. Names are written without
 * compression (allowed, and answers here are a few records).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { TrellisError } from '../../../errors.js';

export const RecordType = { A: 1, CNAME: 5, AAAA: 28 } as const;
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3 } as const;

const HEADER = 12;
const CLASS_IN = 1;
/** Without EDNS a UDP answer may not exceed this (RFC 1035 4.2.1). */
export const UDP_PLAIN_LIMIT = 512;

export interface DnsQuery {
  id: number;
  /** The header's flags word as the client sent it (opcode and RD are copied into the answer). */
  flags: number;
  /** Lower-cased, without the trailing dot: "web.default.svc.cluster.local". */
  name: string;
  type: number;
  qclass: number;
  /** The question section as sent (its case kept, as clients that randomise case check it). */
  rawQuestion: Buffer;
}

export interface DnsRecord {
  name: string;
  type: (typeof RecordType)[keyof typeof RecordType];
  ttl: number;
  /** An address for A/AAAA, a name for CNAME. */
  data: string;
}

function malformed(why: string): TrellisError {
  return new TrellisError('DNS_MALFORMED', `not a DNS query: ${why}`);
}

/** Reads a (possibly compressed) name at `offset`; returns it and the offset after it in the message. */
function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  // Each pointer must go backwards, so a loop is impossible; the bound is a second guard.
  for (let hops = 0; hops < 128; hops++) {
    if (pos >= msg.length) throw malformed('name runs past the message');
    const len = msg[pos]!;
    if (len === 0) {
      const name = labels.join('.');
      if (name.length > 253) throw malformed('name longer than 253 characters');
      return { name, end: end === -1 ? pos + 1 : end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) throw malformed('truncated compression pointer');
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (target >= pos) throw malformed('compression pointer does not point backwards');
      if (end === -1) end = pos + 2;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw malformed(`unknown label type 0x${len.toString(16)}`);
    if (pos + 1 + len > msg.length) throw malformed('label runs past the message');
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw malformed('too many labels');
}

/** The query in `msg`; throws DNS_MALFORMED for anything that is not one query with a question. */
export function parseQuery(msg: Buffer): DnsQuery {
  if (msg.length < HEADER) throw malformed(`${msg.length} bytes, shorter than a header`);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) throw malformed('QR is set (a response)');
  if (msg.readUInt16BE(4) < 1) throw malformed('no question');
  const { name, end } = readName(msg, HEADER);
  if (end + 4 > msg.length) throw malformed('question runs past the message');
  return {
    id: msg.readUInt16BE(0),
    flags,
    name: name.toLowerCase(),
    type: msg.readUInt16BE(end),
    qclass: msg.readUInt16BE(end + 2),
    rawQuestion: msg.subarray(HEADER, end + 4),
  };
}

/** The id of a message, if it has one (an error answer to a malformed query still carries it). */
export function messageId(msg: Buffer): number | undefined {
  return msg.length >= 2 ? msg.readUInt16BE(0) : undefined;
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((l) => l !== '');
  const out: Buffer[] = [];
  for (const l of parts) {
    const b = Buffer.from(l, 'latin1');
    if (b.length > 63) throw new TrellisError('DNS_MALFORMED', `label ${JSON.stringify(l)} longer than 63 bytes`);
    out.push(Buffer.from([b.length]), b);
  }
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

function rdata(r: DnsRecord): Buffer {
  if (r.type === RecordType.A) {
    if (!isIPv4(r.data)) throw new TrellisError('DNS_MALFORMED', `A record ${r.name}: ${r.data} is not an IPv4 address`);
    return Buffer.from(r.data.split('.').map(Number));
  }
  if (r.type === RecordType.AAAA) {
    if (!isIPv6(r.data)) throw new TrellisError('DNS_MALFORMED', `AAAA record ${r.name}: ${r.data} is not an IPv6 address`);
    return ipv6Bytes(r.data);
  }
  return encodeName(r.data);
}

/** The 16 bytes of an IPv6 literal ("::" expanded; an embedded IPv4 tail read as two groups). */
export function ipv6Bytes(text: string): Buffer {
  let t = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    t = t.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = t.split('::');
  const h = head === '' ? [] : head.split(':');
  const tl = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function encodeRecord(r: DnsRecord): Buffer {
  const data = rdata(r);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(CLASS_IN, 2);
  fixed.writeUInt32BE(r.ttl, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(r.name), fixed, data]);
}

/**
 * The answer to `q`: its id, opcode and RD; QR, RA and (for names the agent
 * owns) AA set; its question as sent; the records. With `udpLimit` an answer
 * that would not fit is cut to its header and question with TC set, so the
 * client asks again over TCP.
 */
export function encodeAnswer(q: DnsQuery, rcode: number, answers: readonly DnsRecord[], o: { authoritative: boolean; udpLimit?: number }): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(q.id, 0);
  const flags = 0x8000 | (q.flags & 0x7900) | (o.authoritative ? 0x0400 : 0) | 0x0080 | (rcode & 0xf);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const full = Buffer.concat([header, q.rawQuestion, ...answers.map(encodeRecord)]);
  if (o.udpLimit === undefined || full.length <= o.udpLimit) return full;
  header.writeUInt16BE(flags | 0x0200, 2);
  header.writeUInt16BE(0, 6);
  return Buffer.concat([header, q.rawQuestion]);
}

/** An answer with no question (the query could not be read): its id if it had one, and the rcode. */
export function encodeBareError(id: number, rcode: number): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x8000 | 0x0080 | (rcode & 0xf), 2);
  return header;
}
