/**
 * PKCS#10 certificate requests (RFC 2986): parsed and verified on the CA's
 * side, created on the proxy's (the private key never leaves the pod; only
 * this request does).
 *
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name,
 *     subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute }
 *
 * The CA takes only the public key and the URI SANs from a request: the
 * subject and every other requested extension are ignored, as istiod does.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { errorMessage, TrellisError } from '../errors.js';
import {
  bitString, children, expectTag, oid, readBitStringBytes, readOid, readOne, readSmallInteger, sequence, setOf,
  smallInteger, Tag, tlv, type Der,
} from './der.js';
import { readExtensionInto, type CertificateExtension } from './certificate-reader.js';
import { emptyName, extension, readSubjectAltNames, subjectAltNameValue } from './extensions.js';
import { acceptPublicKey, readSignatureAlgorithm, signatureAlgorithmFor, spkiOf, type KeyType } from './keys.js';
import { Oid } from './oids.js';
import { encodePem, decodePem } from './pem.js';

export interface ParsedCsr {
  publicKey: KeyObject;
  /** The SubjectPublicKeyInfo DER, as the certificate will carry it. */
  spki: Buffer;
  keyType: KeyType;
  uriSans: string[];
}

const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/**
 * Parses one PEM CSR, checks its key is one the CA accepts (ECDSA P-256/P-384,
 * RSA >= 2048) and that it is signed by that key. Throws CSR_INVALID (or
 * DER_MALFORMED) with the reason otherwise.
 */
export function parseCsr(pem: string): ParsedCsr {
  const blocks = decodePem(pem);
  if (blocks.length !== 1 || !CSR_LABELS.has(blocks[0]!.label)) {
    throw new TrellisError('CSR_INVALID', `expected exactly one PEM CERTIFICATE REQUEST block, found ${blocks.length ? blocks.map((b) => b.label).join(', ') : 'none'}`);
  }
  try {
    return parseCsrDer(blocks[0]!.der);
  } catch (err) {
    if (err instanceof TrellisError && err.code === 'CSR_INVALID') throw err;
    throw new TrellisError('CSR_INVALID', `not a PKCS#10 request: ${errorMessage(err)}`, { cause: err });
  }
}

export function parseCsrDer(der: Buffer): ParsedCsr {
  const [infoD, algD, sigD, ...extra] = children(readOne(der, Tag.SEQUENCE));
  if (!infoD || !algD || !sigD || extra.length) throw new TrellisError('CSR_INVALID', 'CertificationRequest: expected info, algorithm and signature');
  const [versionD, subjectD, spkiD, attrsD, ...more] = children(expectTag(infoD, Tag.SEQUENCE, 'CertificationRequestInfo'));
  if (!versionD || !subjectD || !spkiD || more.length) throw new TrellisError('CSR_INVALID', 'CertificationRequestInfo: missing or extra fields');
  if (readSmallInteger(versionD) !== 0) throw new TrellisError('CSR_INVALID', 'CSR version is not 1 (0)');
  expectTag(subjectD, Tag.SEQUENCE, 'subject');
  const key = acceptPublicKey(spkiD.raw);
  const alg = readSignatureAlgorithm(algD.raw);
  if (alg.keyType !== key.keyType) throw new TrellisError('CSR_INVALID', `a ${key.keyType.toUpperCase()} key cannot make this request's signature algorithm`);
  // The signature is checked before anything else in the request is believed.
  if (!verify(alg.hash, infoD.raw, key.publicKey, readBitStringBytes(sigD))) throw new TrellisError('CSR_INVALID', 'the CSR signature does not verify with its own public key');
  const extensions = attrsD ? requestedExtensions(expectTag(attrsD, 0xa0, 'attributes')) : new Map<string, CertificateExtension>();
  const san = extensions.get(Oid.subjectAltName);
  return { publicKey: key.publicKey, spki: key.spki, keyType: key.keyType, uriSans: san ? readSubjectAltNames(san.value).uris : [] };
}

/** The extensions of the extensionRequest attribute (PKCS#9); other attributes are ignored. */
function requestedExtensions(attrs: Der): Map<string, CertificateExtension> {
  const out = new Map<string, CertificateExtension>();
  for (const a of children(attrs)) {
    const [typeD, valuesD] = children(expectTag(a, Tag.SEQUENCE, 'Attribute'));
    if (!typeD || !valuesD || readOid(typeD) !== Oid.extensionRequest) continue;
    const values = children(expectTag(valuesD, Tag.SET, 'Attribute values'));
    if (values.length !== 1) throw new TrellisError('CSR_INVALID', 'extensionRequest must hold exactly one value');
    for (const e of children(expectTag(values[0]!, Tag.SEQUENCE, 'Extensions'))) readExtensionInto(e, out);
  }
  return out;
}

/**
 * A PEM CSR for `uriSan` (the workload's SPIFFE id), signed with `privateKey`
 * (ECDSA P-256/P-384 or RSA). Subject empty, the SAN critical, as the leaf
 * will be.
 */
export function createCsr(privateKey: KeyObject, uriSan: string): string {
  const alg = signatureAlgorithmFor(privateKey);
  const spki = spkiOf(privateKey);
  const extensionRequest = sequence(
    oid(Oid.extensionRequest),
    setOf(sequence(extension(Oid.subjectAltName, true, subjectAltNameValue({ uris: [uriSan] })))),
  );
  const info = sequence(smallInteger(0), emptyName(), spki, tlv(0xa0, [extensionRequest]));
  const der = sequence(info, alg.algorithmIdentifier, bitString(sign(alg.hash, info, privateKey)));
  return encodePem('CERTIFICATE REQUEST', der);
}
