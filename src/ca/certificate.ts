/**
 * Issuing X.509 certificates: X.509-SVID leaves for workloads, DNS/IP leaves
 * for the control plane's own TLS port, and self-signed roots.
 *
 * Leaves follow what istiod issues (security/pkg/pki/util/generate_cert.go):
 * an empty subject with a critical SAN (RFC 5280 4.2.1.6 requires that
 * pairing), CA:false, serverAuth + clientAuth, a 128-bit random serial and
 * notBefore two minutes in the past (istiod's ClockSkewGracePeriod) so a
 * workload whose clock runs a little behind the CA's accepts its new
 * certificate at once. keyUsage is digitalSignature, plus keyEncipherment
 * only for RSA keys (the X.509-SVID profile; keyEncipherment means nothing
 * for an EC key). Signed with node:crypto: ECDSA signatures come out DER
 * encoded, as X.509 wants them.
 */
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { TrellisError } from '../errors.js';
import { bitString, explicit, sequence, smallInteger, time, unsignedInteger } from './der.js';
import { readCertificate, subjectKeyId } from './certificate-reader.js';
import {
  authorityKeyIdentifierValue, basicConstraintsValue, emptyName, extension, extKeyUsageValue, KeyUsage, keyUsageValue,
  subjectAltNameValue, subjectKeyIdentifierValue, type SubjectAltNames,
} from './extensions.js';
import { keyIdentifier, signatureAlgorithmFor, spkiOf, type KeyType, type SignatureAlgorithm } from './keys.js';
import { Oid } from './oids.js';

/** istiod's ClockSkewGracePeriod: a leaf is valid from two minutes before it was signed. */
export const CLOCK_SKEW_BACKDATE_MS = 2 * 60_000;

/** Everything needed to sign under one CA certificate, derived once from its DER and key. */
export interface SigningIdentity {
  key: KeyObject;
  algorithm: SignatureAlgorithm;
  /** The CA certificate's subject Name, byte for byte: every leaf's issuer. */
  subject: Buffer;
  keyId: Buffer;
  notAfter: Date;
}

export function signingIdentity(caCertDer: Buffer, key: KeyObject): SigningIdentity {
  const c = readCertificate(caCertDer);
  if (!spkiOf(key).equals(c.spki)) throw new TrellisError('CA_DIR', 'the CA key does not belong to the CA certificate');
  return { key, algorithm: signatureAlgorithmFor(key), subject: c.subject, keyId: subjectKeyId(c), notAfter: c.notAfter };
}

export interface LeafRequest {
  /** The subject's SubjectPublicKeyInfo (from its CSR). */
  spki: Buffer;
  keyType: KeyType;
  sans: SubjectAltNames;
  notBefore: Date;
  notAfter: Date;
}

const VERSION_3 = explicit(0, smallInteger(2));
const LEAF_FIXED = {
  ecKeyUsage: extension(Oid.keyUsage, true, keyUsageValue([KeyUsage.digitalSignature])),
  rsaKeyUsage: extension(Oid.keyUsage, true, keyUsageValue([KeyUsage.digitalSignature, KeyUsage.keyEncipherment])),
  extKeyUsage: extension(Oid.extKeyUsage, false, extKeyUsageValue(Oid.serverAuth, Oid.clientAuth)),
  notCa: extension(Oid.basicConstraints, true, basicConstraintsValue(false)),
};
const EMPTY_NAME = emptyName();

/** A leaf certificate (DER) for `req.spki`, signed by `signer`. */
export function issueLeaf(req: LeafRequest, signer: SigningIdentity): Buffer {
  if (req.notAfter.getTime() > signer.notAfter.getTime()) throw new TrellisError('CA_SIGN', 'a leaf may not outlive the CA certificate that signs it');
  const extensions = [
    req.keyType === 'rsa' ? LEAF_FIXED.rsaKeyUsage : LEAF_FIXED.ecKeyUsage,
    LEAF_FIXED.extKeyUsage,
    LEAF_FIXED.notCa,
    extension(Oid.subjectKeyIdentifier, false, subjectKeyIdentifierValue(keyIdentifier(req.spki))),
    extension(Oid.authorityKeyIdentifier, false, authorityKeyIdentifierValue(signer.keyId)),
    extension(Oid.subjectAltName, true, subjectAltNameValue(req.sans)),
  ];
  return signTbs(tbsCertificate(signer, EMPTY_NAME, req.spki, req.notBefore, req.notAfter, extensions), signer);
}

export interface RootRequest {
  key: KeyObject;
  /** A Name from extensions.distinguishedName(). */
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
}

/** A self-signed root (DER): CA:true, keyCertSign + cRLSign, its own key identifier on both sides. */
export function createSelfSignedRoot(req: RootRequest): Buffer {
  const spki = spkiOf(req.key);
  const keyId = keyIdentifier(spki);
  const self: SigningIdentity = { key: req.key, algorithm: signatureAlgorithmFor(req.key), subject: req.subject, keyId, notAfter: req.notAfter };
  const extensions = [
    extension(Oid.basicConstraints, true, basicConstraintsValue(true)),
    extension(Oid.keyUsage, true, keyUsageValue([KeyUsage.keyCertSign, KeyUsage.cRLSign])),
    extension(Oid.subjectKeyIdentifier, false, subjectKeyIdentifierValue(keyId)),
    extension(Oid.authorityKeyIdentifier, false, authorityKeyIdentifierValue(keyId)),
  ];
  return signTbs(tbsCertificate(self, req.subject, spki, req.notBefore, req.notAfter, extensions), self);
}

function tbsCertificate(signer: SigningIdentity, subject: Buffer, spki: Buffer, notBefore: Date, notAfter: Date, extensions: Buffer[]): Buffer {
  return sequence(
    VERSION_3,
    unsignedInteger(randomBytes(16)),
    signer.algorithm.algorithmIdentifier,
    signer.subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
}

function signTbs(tbs: Buffer, signer: SigningIdentity): Buffer {
  return sequence(tbs, signer.algorithm.algorithmIdentifier, bitString(sign(signer.algorithm.hash, tbs, signer.key)));
}
