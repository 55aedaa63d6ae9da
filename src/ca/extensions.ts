/**
 * X.509 v3 extensions (RFC 5280 4.2) and distinguished names: encoders for
 * what the CA writes, and decoders for the few it reads back (SANs from CSRs,
 * CA flags and key identifiers from an operator's certificates).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { TrellisError } from '../errors.js';
import {
  bitString, boolean, children, expectTag, ia5String, implicitPrimitive, malformed, octetString, oid, readBoolean,
  readOne, readSmallInteger, sequence, setOf, smallInteger, Tag, utf8String, type Der,
} from './der.js';
import { Oid } from './oids.js';

/** One extension: SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  // DER leaves out a BOOLEAN equal to its DEFAULT, so a non-critical extension has no flag at all.
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

export interface SubjectAltNames {
  uris?: readonly string[];
  dnsNames?: readonly string[];
  ips?: readonly string[];
}

/** GeneralNames: dNSName [2], uniformResourceIdentifier [6] (IA5String), iPAddress [7] (4 or 16 bytes). */
export function subjectAltNameValue(sans: SubjectAltNames): Buffer {
  const names: Buffer[] = [];
  for (const d of sans.dnsNames ?? []) names.push(implicitPrimitive(2, ascii(d, 'DNS name')));
  for (const u of sans.uris ?? []) names.push(implicitPrimitive(6, ascii(u, 'URI')));
  for (const ip of sans.ips ?? []) names.push(implicitPrimitive(7, ipBytes(ip)));
  if (names.length === 0) throw new TrellisError('CA_SIGN', 'a certificate needs at least one subject alternative name');
  return sequence(...names);
}

function ascii(s: string, what: string): Buffer {
  // IA5String is 7-bit; a name with anything else is not something a CA should sign.
  if (!/^[\x21-\x7e]+$/.test(s)) throw new TrellisError('CA_SIGN', `${what} ${JSON.stringify(s)} is not printable ASCII`);
  return Buffer.from(s, 'ascii');
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new TrellisError('CA_SIGN', `not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  let h = groups(head);
  let t = groups(tail);
  // An embedded IPv4 tail ("::ffff:1.2.3.4") is two groups.
  const v4 = (g: string[]) => {
    const last = g[g.length - 1];
    if (!last || !isIPv4(last)) return g;
    const b = last.split('.').map(Number);
    return [...g.slice(0, -1), ((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)];
  };
  if (tail === undefined) h = v4(h);
  else t = v4(t);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The names of a GeneralNames value; other name forms (email, directoryName, ...) are counted, not decoded. */
export function readSubjectAltNames(value: Buffer): { uris: string[]; dnsNames: string[]; ips: string[]; other: number } {
  const out = { uris: [] as string[], dnsNames: [] as string[], ips: [] as string[], other: 0 };
  for (const n of children(readOne(value, Tag.SEQUENCE))) {
    if (n.tag === 0x86) out.uris.push(readIa5(n));
    else if (n.tag === 0x82) out.dnsNames.push(readIa5(n));
    else if (n.tag === 0x87) out.ips.push(formatIp(n.content));
    else out.other++;
  }
  return out;
}

function readIa5(n: Der): string {
  for (const b of n.content) if (b > 0x7e || b < 0x20) throw malformed('IA5String with a byte outside printable ASCII');
  return n.content.toString('ascii');
}

function formatIp(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) return Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
  throw malformed(`iPAddress of ${b.length} bytes`);
}

/** basicConstraints: CA:false is an empty SEQUENCE (cA DEFAULT FALSE is omitted in DER). */
export function basicConstraintsValue(ca: boolean, pathLen?: number): Buffer {
  if (!ca) return sequence();
  return pathLen === undefined ? sequence(boolean(true)) : sequence(boolean(true), smallInteger(pathLen));
}

export function readBasicConstraints(value: Buffer): { ca: boolean; pathLen?: number } {
  const parts = children(readOne(value, Tag.SEQUENCE));
  let i = 0;
  let ca = false;
  if (parts[i]?.tag === Tag.BOOLEAN) ca = readBoolean(parts[i++]!);
  const pathLen = parts[i] ? readSmallInteger(parts[i]!) : undefined;
  return pathLen === undefined ? { ca } : { ca, pathLen };
}

/** keyUsage bits, numbered as in RFC 5280. */
export const KeyUsage = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

/** A named-bit BIT STRING: trailing zero bits are dropped and counted as unused (X.690 11.2.2). */
export function keyUsageValue(bits: readonly number[]): Buffer {
  const top = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(top / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return bitString(bytes, 7 - (top & 7));
}

/** keyUsage bit numbers that are set. */
export function readKeyUsage(value: Buffer): number[] {
  const d = expectTag(readOne(value), Tag.BIT_STRING, 'keyUsage');
  const out: number[] = [];
  for (let i = 1; i < d.content.length; i++) for (let bit = 0; bit < 8; bit++) if (d.content[i]! & (0x80 >> bit)) out.push((i - 1) * 8 + bit);
  return out;
}

export const extKeyUsageValue = (...purposes: string[]): Buffer => sequence(...purposes.map(oid));

export const subjectKeyIdentifierValue = (id: Buffer): Buffer => octetString(id);

/** authorityKeyIdentifier with only keyIdentifier [0] IMPLICIT OCTET STRING. */
export const authorityKeyIdentifierValue = (id: Buffer): Buffer => sequence(implicitPrimitive(0, id));

export function readSubjectKeyIdentifier(value: Buffer): Buffer {
  return readOne(value, Tag.OCTET_STRING).content;
}

/** A distinguished name from (type, value) pairs, one attribute per RDN, values as UTF8String. */
export function distinguishedName(attrs: ReadonlyArray<readonly [string, string]>): Buffer {
  return sequence(...attrs.map(([type, value]) => setOf(sequence(oid(type), utf8String(value)))));
}

/** The empty name of an X.509-SVID leaf (identity lives in the SAN, which is then critical). */
export const emptyName = (): Buffer => sequence();

export const organization = (o: string): readonly [string, string] => [Oid.organizationName, o];
export const commonName = (cn: string): readonly [string, string] => [Oid.commonName, cn];
