/**
 * Which keys the CA accepts and how it signs with them: ECDSA P-256/P-384
 * and RSA 2048–8192, nothing else (no DSA, no Ed25519, no small RSA).
 * Also the AlgorithmIdentifier encodings and RFC 5280 key identifiers.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { TrellisError } from '../errors.js';
import { children, expectTag, malformed, nullValue, oid, readBitStringBytes, readOid, readOne, sequence, Tag, type Der } from './der.js';
import { Oid } from './oids.js';

export type KeyType = 'ec' | 'rsa';

/** RSA keys below this are refused (NIST SP 800-131A); above the cap they only cost verification time. */
export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192;

/** A public key the CA accepts, with its SubjectPublicKeyInfo DER as received. */
export interface AcceptedKey {
  publicKey: KeyObject;
  spki: Buffer;
  keyType: KeyType;
}

/** How to sign with a key: the AlgorithmIdentifier that goes into the certificate and node's hash name. */
export interface SignatureAlgorithm {
  algorithmIdentifier: Buffer;
  hash: 'sha256' | 'sha384' | 'sha512';
}

const sigAlg = (o: string, hash: SignatureAlgorithm['hash'], withNull: boolean): SignatureAlgorithm => ({
  // RFC 5758: ECDSA identifiers have no parameters; RFC 8017: RSA ones carry NULL.
  algorithmIdentifier: withNull ? sequence(oid(o), nullValue()) : sequence(oid(o)),
  hash,
});

const ecdsaSha256 = sigAlg(Oid.ecdsaWithSha256, 'sha256', false);
const ecdsaSha384 = sigAlg(Oid.ecdsaWithSha384, 'sha384', false);
const rsaSha256 = sigAlg(Oid.sha256WithRsa, 'sha256', true);

/** Signature algorithms accepted on CSRs: the key type each belongs to and its hash. */
const acceptedSignatures = new Map<string, { keyType: KeyType; hash: SignatureAlgorithm['hash'] }>([
  [Oid.ecdsaWithSha256, { keyType: 'ec', hash: 'sha256' }],
  [Oid.ecdsaWithSha384, { keyType: 'ec', hash: 'sha384' }],
  [Oid.ecdsaWithSha512, { keyType: 'ec', hash: 'sha512' }],
  [Oid.sha256WithRsa, { keyType: 'rsa', hash: 'sha256' }],
  [Oid.sha384WithRsa, { keyType: 'rsa', hash: 'sha384' }],
  [Oid.sha512WithRsa, { keyType: 'rsa', hash: 'sha512' }],
]);

/** The algorithm to sign with `key` (a private key): the curve's own hash for ECDSA, SHA-256 for RSA. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return rsaSha256;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return ecdsaSha256;
    if (curve === 'secp384r1') return ecdsaSha384;
  }
  throw new TrellisError('CA_SIGN', `cannot sign with a ${describeKey(key)} key: ECDSA P-256/P-384 or RSA only`);
}

/** Reads a signature AlgorithmIdentifier from a CSR; refuses what the CA does not accept. */
export function readSignatureAlgorithm(der: Buffer): { keyType: KeyType; hash: SignatureAlgorithm['hash'] } {
  const parts = children(expectTag(readOne(der), Tag.SEQUENCE, 'AlgorithmIdentifier'));
  if (!parts[0]) throw malformed('AlgorithmIdentifier: empty');
  const o = readOid(parts[0]);
  const alg = acceptedSignatures.get(o);
  if (!alg) throw new TrellisError('CSR_INVALID', `signature algorithm ${o} is not accepted (ECDSA with SHA-2, or RSA PKCS#1 v1.5 with SHA-2)`);
  return alg;
}

/**
 * Parses a SubjectPublicKeyInfo and checks it is a key the CA signs for:
 * EC on P-256 or P-384, RSA of 2048–8192 bits.
 *
 * The KeyObject is built from the key's numbers as a JWK rather than from the
 * SPKI DER: OpenSSL 3's DER decoder costs ~200 µs per key here, a third of a
 * whole signing, the JWK path half that for EC and a thirtieth for RSA (see
 * bench/ca-sign.ts). Both paths check an EC point lies on its curve. A
 * compressed EC point (rare: Go, OpenSSL and node write uncompressed ones)
 * takes the DER path.
 */
export function acceptPublicKey(spki: Buffer): AcceptedKey {
  const parts = children(expectTag(readOne(spki), Tag.SEQUENCE, 'SubjectPublicKeyInfo'));
  if (parts.length !== 2) throw new TrellisError('CSR_INVALID', 'SubjectPublicKeyInfo: expected algorithm and key');
  const alg = children(expectTag(parts[0]!, Tag.SEQUENCE, 'AlgorithmIdentifier'));
  const bits = readBitStringBytes(parts[1]!);
  const algOid = alg[0] ? readOid(alg[0]) : '';
  if (algOid === Oid.ecPublicKey) return { publicKey: ecKey(alg[1], bits, spki), spki, keyType: 'ec' };
  if (algOid === Oid.rsaEncryption) return { publicKey: rsaKey(bits), spki, keyType: 'rsa' };
  throw new TrellisError('CSR_INVALID', `public key algorithm ${algOid || '(none)'} is not accepted (ECDSA P-256/P-384 or RSA >= ${RSA_MIN_BITS})`);
}

const curves = new Map<string, { crv: string; size: number }>([[Oid.prime256v1, { crv: 'P-256', size: 32 }], [Oid.secp384r1, { crv: 'P-384', size: 48 }]]);

function ecKey(params: Der | undefined, point: Buffer, spki: Buffer): KeyObject {
  const curveOid = params?.tag === Tag.OID ? readOid(params) : '(not a named curve)';
  const curve = curves.get(curveOid);
  if (!curve) throw new TrellisError('CSR_INVALID', `EC key on curve ${curveOid}: only P-256 and P-384 are accepted`);
  return importKey(() => {
    if (point[0] !== 0x04) return createPublicKey({ key: spki, format: 'der', type: 'spki' });
    if (point.length !== 1 + 2 * curve.size) throw new Error(`an uncompressed ${curve.crv} point is ${1 + 2 * curve.size} bytes, not ${point.length}`);
    const x = point.subarray(1, 1 + curve.size).toString('base64url');
    const y = point.subarray(1 + curve.size).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x, y }, format: 'jwk' });
  });
}

function rsaKey(bits: Buffer): KeyObject {
  const [n, e, ...extra] = children(readOne(bits, Tag.SEQUENCE));
  if (!n || !e || extra.length) throw new TrellisError('CSR_INVALID', 'RSAPublicKey: expected modulus and exponent');
  const modulus = unsignedMagnitude(n);
  const exponent = unsignedMagnitude(e);
  const size = modulus.length === 0 ? 0 : (modulus.length - 1) * 8 + (32 - Math.clz32(modulus[0]!));
  if (size < RSA_MIN_BITS || size > RSA_MAX_BITS) throw new TrellisError('CSR_INVALID', `RSA key of ${size} bits: ${RSA_MIN_BITS} to ${RSA_MAX_BITS} are accepted`);
  return importKey(() => createPublicKey({ key: { kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') }, format: 'jwk' }));
}

/** A positive INTEGER's magnitude, without the sign byte. */
function unsignedMagnitude(d: Der): Buffer {
  expectTag(d, Tag.INTEGER, 'INTEGER');
  if (d.content.length === 0 || d.content[0]! & 0x80) throw new TrellisError('CSR_INVALID', 'RSA key numbers must be positive');
  return d.content[0] === 0 ? d.content.subarray(1) : d.content;
}

function importKey(make: () => KeyObject): KeyObject {
  try {
    return make();
  } catch (err) {
    throw new TrellisError('CSR_INVALID', `public key does not decode (${(err as Error).message})`, { cause: err });
  }
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. An identifier, not a security property. */
export function keyIdentifier(spki: Buffer): Buffer {
  const parts = children(readOne(spki, Tag.SEQUENCE));
  return createHash('sha1').update(readBitStringBytes(parts[1]!)).digest();
}

export function spkiOf(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

/** A new private key: ECDSA P-256, or RSA 2048 (`rsa`). */
export function generatePrivateKey(type: KeyType): KeyObject {
  return type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  return `${key.asymmetricKeyType ?? 'unknown'}${d?.namedCurve ? ` ${d.namedCurve}` : ''}${d?.modulusLength ? ` ${d.modulusLength} bits` : ''}`;
}
