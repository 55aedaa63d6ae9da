/**
 * JWTs for tests, signed with node:crypto keys the test generates: an
 * issuer with RSA, EC, Ed25519 and PS keys, its JWKS, and tokens with any
 * header or claims (expired, wrong kid, tampered...). Nothing from outside.
 */
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export type KeyAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

interface Pair {
  alg: KeyAlg;
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function pair(alg: KeyAlg, kid: string): Pair {
  const k = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : alg === 'EdDSA' ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { alg, kid, ...k };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export class TestIssuer {
  readonly keys: Pair[];

  constructor(readonly iss: string, algs: readonly KeyAlg[] = ['RS256'], kidPrefix = 'k') {
    this.keys = algs.map((a, i) => pair(a, `${kidPrefix}${i}-${a}`));
  }

  /** The public keys as a JWKS (kid and alg on each). */
  jwks(): string {
    return JSON.stringify({ keys: this.keys.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' })) });
  }

  /** A token from key `index` with iss, sub and a 1 h lifetime unless `claims` or `header` say otherwise. */
  token(claims: Record<string, unknown> = {}, o: { index?: number; header?: Record<string, unknown> } = {}): string {
    const k = this.keys[o.index ?? 0]!;
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: k.alg, typ: 'JWT', kid: k.kid, ...o.header };
    const payload = { iss: this.iss, sub: 'subject', iat: now, exp: now + 3600, ...claims };
    const input = `${b64(header)}.${b64(payload)}`;
    const data = Buffer.from(input);
    const sig = k.alg === 'EdDSA' ? sign(null, data, k.privateKey)
      : k.alg === 'ES256' ? sign('sha256', data, { key: k.privateKey, dsaEncoding: 'ieee-p1363' })
        : k.alg === 'PS256' ? sign('sha256', data, { key: k.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
          : sign('sha256', data, k.privateKey);
    return `${input}.${sig.toString('base64url')}`;
  }
}

/** The same token with its signature's first byte changed. */
export function tampered(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  sig[0] = sig[0]! ^ 0xff;
  return `${h}.${p}.${sig.toString('base64url')}`;
}
