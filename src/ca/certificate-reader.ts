/**
 * Reads the parts of an X.509 certificate the CA needs from an operator's
 * files — the exact subject bytes (a leaf's issuer must equal them byte for
 * byte), the key identifier, the validity and the CA flag — and lets tests
 * look at what the CA wrote. node's X509Certificate cannot give back raw
 * name bytes or extension values, hence this.
 */
import { TrellisError } from '../errors.js';
import { children, expectTag, readBitStringBytes, readBoolean, readOid, readOne, readSmallInteger, readTime, Tag, type Der } from './der.js';
import { readBasicConstraints, readSubjectKeyIdentifier } from './extensions.js';
import { keyIdentifier } from './keys.js';
import { Oid } from './oids.js';

export interface CertificateExtension {
  critical: boolean;
  /** The extnValue contents (the DER inside the OCTET STRING). */
  value: Buffer;
}

export interface CertificateParts {
  der: Buffer;
  /** TBSCertificate, as signed. */
  tbs: Buffer;
  version: number;
  /** serialNumber contents (big-endian, as encoded). */
  serial: Buffer;
  /** The issuer and subject Name TLVs, byte for byte. */
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Map<string, CertificateExtension>;
  signatureAlgorithm: Buffer;
  signature: Buffer;
}

/** Parses a DER certificate's structure (the signature is not checked here). */
export function readCertificate(der: Buffer): CertificateParts {
  const [tbsD, algD, sigD, ...extra] = children(readOne(der, Tag.SEQUENCE));
  if (!tbsD || !algD || !sigD || extra.length) throw new TrellisError('DER_MALFORMED', 'Certificate: expected tbsCertificate, signatureAlgorithm, signature');
  const f = children(expectTag(tbsD, Tag.SEQUENCE, 'TBSCertificate'));
  let i = 0;
  let version = 0;
  if (f[0]?.tag === 0xa0) version = readSmallInteger(field(children(f[i++]!), 0));
  const serial = expectTag(field(f, i++), Tag.INTEGER, 'serialNumber').content;
  i++; // signature AlgorithmIdentifier (repeated outside the TBS)
  const issuer = expectTag(field(f, i++), Tag.SEQUENCE, 'issuer').raw;
  const validity = children(expectTag(field(f, i++), Tag.SEQUENCE, 'validity'));
  const subject = expectTag(field(f, i++), Tag.SEQUENCE, 'subject').raw;
  const spki = expectTag(field(f, i++), Tag.SEQUENCE, 'subjectPublicKeyInfo').raw;
  const extensions = new Map<string, CertificateExtension>();
  for (; i < f.length; i++) if (f[i]!.tag === 0xa3) for (const e of children(expectTag(field(children(f[i]!), 0), Tag.SEQUENCE, 'extensions'))) readExtensionInto(e, extensions);
  return {
    der, tbs: tbsD.raw, version, serial, issuer, subject,
    notBefore: readTime(field(validity, 0)), notAfter: readTime(field(validity, 1)), spki, extensions,
    signatureAlgorithm: algD.raw, signature: readBitStringBytes(sigD),
  };
}

function field(f: Der[], i: number): Der {
  const d = f[i];
  if (!d) throw new TrellisError('DER_MALFORMED', 'certificate: a field is missing');
  return d;
}

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }; a repeated extension is refused (RFC 5280 4.2). */
export function readExtensionInto(e: Der, into: Map<string, CertificateExtension>): void {
  const parts = children(expectTag(e, Tag.SEQUENCE, 'Extension'));
  if (parts.length !== 2 && parts.length !== 3) throw new TrellisError('DER_MALFORMED', 'Extension: expected id, [critical,] value');
  const id = readOid(parts[0]!);
  const critical = parts.length === 3 ? readBoolean(parts[1]!) : false;
  const value = expectTag(parts[parts.length - 1]!, Tag.OCTET_STRING, 'extnValue').content;
  if (into.has(id)) throw new TrellisError('DER_MALFORMED', `extension ${id} appears twice`);
  into.set(id, { critical, value });
}

/** Whether the certificate says it is a CA (basicConstraints cA TRUE). */
export function isCaCertificate(c: CertificateParts): boolean {
  const bc = c.extensions.get(Oid.basicConstraints);
  return bc ? readBasicConstraints(bc.value).ca : false;
}

/** The subjectKeyIdentifier if present, else one computed the way this CA computes its own. */
export function subjectKeyId(c: CertificateParts): Buffer {
  const ski = c.extensions.get(Oid.subjectKeyIdentifier);
  return ski ? readSubjectKeyIdentifier(ski.value) : keyIdentifier(c.spki);
}
