/**
 * Workload tokens: ES256 JWTs shaped like a Kubernetes projected
 * service-account token, so the CA's authentication has the same inputs
 * locally as on a cluster:
 *
 *   header  {"alg":"ES256","kid":THUMBPRINT,"typ":"JWT"}
 *   claims  {"iss":"trellis-controlplane","sub":"system:serviceaccount:NS:SA","aud":["istio-ca"],
 *            "iat":..,"nbf":..,"exp":..,"kubernetes.io":{"namespace":NS,"serviceaccount":{"name":SA}}}
 *
 * A token may be bound to a pod and/or a node, as Kubernetes binds them
 * (`"kubernetes.io": {..., "pod": {"name","uid"}, "node": {"name","uid"}}`):
 * the CA's node authorizer learns from it which node a node proxy runs on.
 *
 * Signed with token-key.pem in the CA directory (P-256, 0600, created on
 * first use); `kid` is the key's RFC 7638 thumbprint. Verification refuses
 * every other algorithm (none, HS256 — the classic confusion — RS256, ...)
 * before looking at anything else, checks the signature before believing a
 * claim, then expiry, audience and subject. The CA only sees TokenVerifier,
 * so a Kubernetes TokenReview verifier can take this one's place.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TrellisError } from '../errors.js';
import { CaFile } from './ca-dir.js';
import { readPrivateKeyFile, writeNewFile } from './key-file.js';
import { generatePrivateKey, privateKeyPem } from './keys.js';
import { checkIdentity, isDnsSubdomain, parseServiceAccountSubject, serviceAccountSubject, type WorkloadIdentity } from './spiffe.js';

export const DEFAULT_TOKEN_AUDIENCE = 'istio-ca';
export const TOKEN_ISSUER = 'trellis-controlplane';
/** Kubernetes tokens are a few hundred bytes to a few KiB; anything far larger is not one. */
export const MAX_TOKEN_BYTES = 16 * 1024;
/** Clock difference tolerated on nbf (the issuer's clock may run ahead of the verifier's). */
const NBF_LEEWAY_S = 60;

/** A pod or node a token is bound to (Kubernetes' bound service-account tokens). */
export interface BoundObject {
  name: string;
  uid?: string;
}

/** What a token proves: the service account, and the pod and node it is bound to, when it is bound. */
export interface TokenSubject extends WorkloadIdentity {
  pod?: BoundObject;
  node?: BoundObject;
}

/** Turns a bearer token into what it proves, or rejects with a TOKEN_* TrellisError. */
export interface TokenVerifier {
  verify(token: string, audience: string): Promise<TokenSubject>;
}

export interface CreateTokenOptions extends WorkloadIdentity {
  ttlSeconds: number;
  audience?: string;
  pod?: BoundObject;
  node?: BoundObject;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const B64URL = /^[A-Za-z0-9_-]*$/;

/** Creates and verifies workload tokens with one P-256 key. */
export class LocalTokenIssuer implements TokenVerifier {
  readonly kid: string;
  readonly #key: KeyObject;
  readonly #publicKey: KeyObject;

  constructor(privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new TrellisError('CA_DIR', 'the token key must be an ECDSA P-256 key (ES256)');
    }
    this.#key = privateKey;
    this.#publicKey = createPublicKey(privateKey);
    this.kid = thumbprint(this.#publicKey);
  }

  /** The issuer of the CA directory `dir`: token-key.pem, created (0600, and the directory) when missing. */
  static open(dir: string): LocalTokenIssuer {
    // `trellis token create` may run before the control plane ever started on this directory (scripts do both at once).
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new TrellisError('CA_DIR', `cannot create the CA directory ${dir}`, { cause: err });
    }
    const path = join(dir, CaFile.tokenKey);
    if (!existsSync(path)) {
      try {
        writeNewFile(path, privateKeyPem(generatePrivateKey('ec')), 0o600);
      } catch (err) {
        // Another process (controlplane and `trellis token create` at once) may have won the race: use its key.
        if (!existsSync(path)) throw err;
      }
    }
    return new LocalTokenIssuer(readPrivateKeyFile(path));
  }

  createToken(opts: CreateTokenOptions): string {
    const id = checkIdentity({ namespace: opts.namespace, serviceAccount: opts.serviceAccount });
    if (!(opts.ttlSeconds > 0)) throw new TrellisError('TOKEN_CLAIMS', `token TTL must be positive, not ${opts.ttlSeconds}`);
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'ES256', kid: this.kid, typ: 'JWT' };
    const claims = {
      iss: TOKEN_ISSUER,
      sub: serviceAccountSubject(id),
      aud: [opts.audience ?? DEFAULT_TOKEN_AUDIENCE],
      iat: now,
      nbf: now,
      exp: now + Math.ceil(opts.ttlSeconds),
      'kubernetes.io': {
        namespace: id.namespace,
        serviceaccount: { name: id.serviceAccount },
        ...(opts.pod ? { pod: checkBound(opts.pod, 'pod') } : {}),
        ...(opts.node ? { node: checkBound(opts.node, 'node') } : {}),
      },
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    // JWS (RFC 7518 3.4) wants ECDSA as raw r||s, not the DER node produces by default.
    const sig = sign('sha256', Buffer.from(signingInput), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${b64url(sig)}`;
  }

  /** The identity `jwt` proves for `audience`; throws TOKEN_MALFORMED/ALG/SIGNATURE/EXPIRED/NOT_YET_VALID/AUDIENCE/CLAIMS. */
  verifyToken(jwt: string, audience: string): TokenSubject {
    if (typeof jwt !== 'string' || jwt.length > MAX_TOKEN_BYTES) throw new TrellisError('TOKEN_MALFORMED', `token is not a string of at most ${MAX_TOKEN_BYTES} bytes`);
    const parts = jwt.split('.');
    if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || !parts[0] || !parts[1]) {
      throw new TrellisError('TOKEN_MALFORMED', 'token is not a JWS compact serialisation (three base64url parts)');
    }
    const header = jsonPart(parts[0], 'header');
    if (header.alg === 'none') throw new TrellisError('TOKEN_ALG', 'unsigned token (alg "none") refused');
    if (header.alg !== 'ES256') throw new TrellisError('TOKEN_ALG', `token algorithm ${JSON.stringify(header.alg)} refused: only ES256`);
    if (header.kid !== this.kid) throw new TrellisError('TOKEN_SIGNATURE', `token signed by an unknown key (kid ${JSON.stringify(header.kid)})`);
    const sig = Buffer.from(parts[2]!, 'base64url');
    const signed = sig.length === 64 && verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: this.#publicKey, dsaEncoding: 'ieee-p1363' }, sig);
    if (!signed) throw new TrellisError('TOKEN_SIGNATURE', 'token signature does not verify');
    return checkClaims(jsonPart(parts[1], 'claims'), audience);
  }

  verify(token: string, audience: string): Promise<TokenSubject> {
    try {
      return Promise.resolve(this.verifyToken(token, audience));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

function jsonPart(part: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch (err) {
    throw new TrellisError('TOKEN_MALFORMED', `token ${what} is not JSON`, { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TrellisError('TOKEN_MALFORMED', `token ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function checkClaims(c: Record<string, unknown>, audience: string): TokenSubject {
  const now = Math.floor(Date.now() / 1000);
  if (c.iss !== TOKEN_ISSUER) throw new TrellisError('TOKEN_CLAIMS', `token issuer ${JSON.stringify(c.iss)} is not ${TOKEN_ISSUER}`);
  if (typeof c.exp !== 'number') throw new TrellisError('TOKEN_CLAIMS', 'token has no exp');
  if (now >= c.exp) throw new TrellisError('TOKEN_EXPIRED', `token expired at ${new Date(c.exp * 1000).toISOString()} (${now - c.exp}s ago)`);
  if (c.nbf !== undefined && (typeof c.nbf !== 'number' || now + NBF_LEEWAY_S < c.nbf)) throw new TrellisError('TOKEN_NOT_YET_VALID', `token not valid before ${JSON.stringify(c.nbf)}`);
  const aud = typeof c.aud === 'string' ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  if (!aud.includes(audience)) throw new TrellisError('TOKEN_AUDIENCE', `token audience ${JSON.stringify(c.aud ?? null)} does not include ${audience}`);
  const id = parseServiceAccountSubject(c.sub);
  const k8s = c['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown }; pod?: unknown; node?: unknown } | undefined;
  if (k8s !== undefined && (k8s?.namespace !== id.namespace || k8s?.serviceaccount?.name !== id.serviceAccount)) {
    throw new TrellisError('TOKEN_CLAIMS', 'token kubernetes.io claims disagree with its subject');
  }
  return {
    ...id,
    ...(k8s?.pod !== undefined ? { pod: checkBound(k8s.pod, 'pod') } : {}),
    ...(k8s?.node !== undefined ? { node: checkBound(k8s.node, 'node') } : {}),
  };
}

/** A bound pod or node claim: a name Kubernetes would accept and an optional uid; TOKEN_CLAIMS otherwise. */
export function checkBound(v: unknown, what: 'pod' | 'node'): BoundObject {
  const o = v as { name?: unknown; uid?: unknown } | null;
  if (typeof o !== 'object' || o === null || !isDnsSubdomain(o.name)) {
    throw new TrellisError('TOKEN_CLAIMS', `token ${what} claim ${JSON.stringify(v)} has no valid name (a DNS subdomain)`);
  }
  if (o.uid !== undefined && (typeof o.uid !== 'string' || o.uid.length === 0 || o.uid.length > 128)) {
    throw new TrellisError('TOKEN_CLAIMS', `token ${what} claim's uid ${JSON.stringify(o.uid)} is not a string of 1 to 128 characters`);
  }
  return { name: o.name, ...(o.uid !== undefined ? { uid: o.uid } : {}) };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a P-256 public key. */
export function thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
