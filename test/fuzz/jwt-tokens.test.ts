/**
 * Fuzz: what the jwt_authn filter reads from clients — tokens and key sets.
 * Mutated valid tokens and arbitrary strings must end in a JwtStatus, never
 * an exception; a mutated token that still verifies must carry the original
 * claims (the signature covers them). Mutated key sets parse to the keys
 * node:crypto accepts, or none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJwt, verifySignature } from '../../src/proxy/filters/jwt/jws.js';
import { parseJwks } from '../../src/proxy/filters/jwt/jwks.js';
import { JwtStatus } from '../../src/proxy/filters/jwt/jwt-status.js';
import { TestIssuer } from '../helpers/jwt-tokens.js';
import { fuzz, mutated } from './harness.js';

const issuer = new TestIssuer('https://fuzz.example', ['RS256', 'ES256', 'EdDSA']);
const keys = parseJwks(issuer.jwks(), []);
const tokens = [0, 1, 2].map((index) => issuer.token({ aud: 'a', groups: ['x'] }, { index }));
const original = JSON.stringify(JSON.parse(Buffer.from(tokens[0]!.split('.')[1]!, 'base64url').toString()).groups);

function judged(token: string): void {
  const jwt = parseJwt(token);
  if (typeof jwt === 'string') return void assert.ok(Object.values(JwtStatus).includes(jwt), jwt);
  const s = verifySignature(jwt, keys);
  assert.ok(Object.values(JwtStatus).includes(s), s);
  if (s === JwtStatus.Ok) assert.equal(JSON.stringify(jwt.payload['groups']), original, 'a verified token says what was signed');
}

test('fuzz: mutated and arbitrary tokens end in a status, never an exception', async (t) => {
  const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
  await fuzz('jwt-tokens', fc.property(fc.oneof(
    mutated(fc.constantFrom(...tokens.map((tok) => new Uint8Array(Buffer.from(tok))))).map(text),
    fc.string({ maxLength: 300 }),
    fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => p.join('.').replace(/\+/g, '-').replace(/\//g, '_')),
  ), judged), 400, t);
});

test('fuzz: mutated key sets never throw', async (t) => {
  await fuzz('jwt-jwks', fc.property(mutated(fc.constant(new Uint8Array(Buffer.from(issuer.jwks())))), (b) => {
    const out = parseJwks(Buffer.from(b).toString('latin1'), []);
    assert.ok(out.length <= 3);
  }), 200, t);
});
