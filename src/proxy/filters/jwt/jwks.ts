/**
 * A JWKS (RFC 7517) as the keys node:crypto verifies with, parsed once per
 * listener update. Keys node:crypto cannot import are left out, as
 * jwt_verify_lib skips keys it cannot use; a key set with no usable key at
 * all is "Jwks doesn't have any valid public key" for every token.
 */
import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface Jwk {
  kid: string | undefined;
  alg: string | undefined;
  kty: string;
  /** EC curve (crv), to pick the key for ES256/384/512. */
  crv: string | undefined;
  key: KeyObject;
}

/** Parses a key set; `errors` gets one line per key left out (for the NACK-free warning), none for a good set. */
export function parseJwks(text: string, notes: string[]): Jwk[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    notes.push(`not JSON: ${(err as Error).message}`);
    return [];
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) {
    notes.push('no "keys" array');
    return [];
  }
  const out: Jwk[] = [];
  keys.forEach((k: Record<string, unknown> | null, i) => {
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const kty = str(k?.['kty']);
    if (!k || !kty) return void notes.push(`keys[${i}]: [kty] is missing`);
    try {
      const key = kty === 'oct'
        ? createSecretKey(Buffer.from(String(k['k'] ?? ''), 'base64url'))
        : createPublicKey({ key: k as JsonWebKey, format: 'jwk' });
      out.push({ kid: str(k['kid']), alg: str(k['alg']), kty, crv: str(k['crv']), key });
    } catch (err) {
      notes.push(`keys[${i}]: ${(err as Error).message}`);
    }
  });
  return out;
}
