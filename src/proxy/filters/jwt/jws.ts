/**
 * A compact JWS (RFC 7515) as jwt_verify_lib reads one: three base64url
 * parts, a JSON header with a supported `alg` (and a string `kid` if any), a
 * JSON object payload whose registered claims have the right types, and a
 * signature checked with node:crypto against the keys whose kid and alg
 * fit. Nothing here throws on hostile input: every failure is a JwtStatus.
 */
import { constants, createHmac, timingSafeEqual, verify } from 'node:crypto';
import type { Jwk } from './jwks.js';
import { JwtStatus } from './jwt-status.js';

export type Claims = Record<string, unknown>;

export interface Jwt {
  alg: string;
  kid: string | undefined;
  payload: Claims;
  /** The payload part as it came (base64url): output_payload_to_header forwards it unchanged. */
  payloadB64: string;
  iss: string;
  sub: string;
  audiences: string[];
  exp: number;
  nbf: number;
  signed: Buffer;
  signature: Buffer;
}

/** Digest and family of each supported alg; "none" and anything else is not implemented. */
const ALGS: Readonly<Record<string, { hash: string | null; kty: string; crv?: string; pss?: boolean }>> = {
  RS256: { hash: 'sha256', kty: 'RSA' }, RS384: { hash: 'sha384', kty: 'RSA' }, RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true }, PS384: { hash: 'sha384', kty: 'RSA', pss: true }, PS512: { hash: 'sha512', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256' }, ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384' }, ES512: { hash: 'sha512', kty: 'EC', crv: 'P-521' },
  HS256: { hash: 'sha256', kty: 'oct' }, HS384: { hash: 'sha384', kty: 'oct' }, HS512: { hash: 'sha512', kty: 'oct' },
  EdDSA: { hash: null, kty: 'OKP' },
};

const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeJson(part: string): Claims | undefined {
  if (!B64URL.test(part)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Claims) : undefined;
  } catch {
    return undefined;
  }
}

const optString = (v: unknown) => v === undefined || typeof v === 'string';
const optTime = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);

export function parseJwt(token: string): Jwt | JwtStatus {
  const parts = token.split('.');
  if (parts.length !== 3) return JwtStatus.BadFormat;
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  if (!header) return JwtStatus.HeaderParseError;
  const alg = header['alg'];
  if (typeof alg !== 'string') return JwtStatus.HeaderBadAlg;
  if (!Object.hasOwn(ALGS, alg)) return JwtStatus.HeaderNotImplementedAlg;
  const kid = header['kid'];
  if (!optString(kid)) return JwtStatus.HeaderBadKid;
  const payload = decodeJson(p);
  if (!payload) return JwtStatus.PayloadParseError;
  const { iss, sub, aud, exp, nbf, iat } = payload;
  const audOk = aud === undefined || typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'));
  if (!optString(iss) || !optString(sub) || !audOk || !optTime(exp) || !optTime(nbf) || !optTime(iat)) return JwtStatus.PayloadParseError;
  if (!B64URL.test(s)) return JwtStatus.SignatureParseError;
  return {
    alg, kid: kid as string | undefined, payload, payloadB64: p,
    iss: (iss as string | undefined) ?? '', sub: (sub as string | undefined) ?? '',
    audiences: aud === undefined ? [] : typeof aud === 'string' ? [aud] : (aud as string[]),
    exp: (exp as number | undefined) ?? 0, nbf: (nbf as number | undefined) ?? 0,
    signed: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url'),
  };
}

/** exp and nbf, each with `skew` seconds of tolerance (Envoy: 60 by default). */
export function checkTime(jwt: Jwt, nowSeconds: number, skew: number): JwtStatus {
  if (jwt.nbf && nowSeconds < jwt.nbf - skew) return JwtStatus.NotYetValid;
  if (jwt.exp && nowSeconds > jwt.exp + skew) return JwtStatus.Expired;
  return JwtStatus.Ok;
}

function verifyOne(jwt: Jwt, k: Jwk): boolean {
  const a = ALGS[jwt.alg]!;
  try {
    if (a.kty === 'oct') {
      const mac = createHmac(a.hash!, k.key).update(jwt.signed).digest();
      return mac.length === jwt.signature.length && timingSafeEqual(mac, jwt.signature);
    }
    if (a.kty === 'EC') return verify(a.hash, jwt.signed, { key: k.key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
    if (a.pss) return verify(a.hash, jwt.signed, { key: k.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, jwt.signature);
    return verify(a.hash, jwt.signed, k.key, jwt.signature);
  } catch {
    return false;
  }
}

/** jwt_verify_lib's verifyJwtWithoutTimeChecking: any key whose kid, alg and type fit the token may sign it. */
export function verifySignature(jwt: Jwt, keys: readonly Jwk[]): JwtStatus {
  if (keys.length === 0) return JwtStatus.JwksNoValidKeys;
  const a = ALGS[jwt.alg]!;
  let fitting = false;
  for (const k of keys) {
    if (jwt.kid && k.kid && jwt.kid !== k.kid) continue;
    if (k.alg && k.alg !== jwt.alg) continue;
    if (k.kty !== a.kty || (a.crv && k.crv !== a.crv)) continue;
    fitting = true;
    if (verifyOne(jwt, k)) return JwtStatus.Ok;
  }
  return fitting ? JwtStatus.VerificationFail : JwtStatus.JwksKidAlgMismatch;
}
