/**
 * The agent checks what the CA answered before putting it in force: our key,
 * exactly our SPIFFE id, valid now, chained to the bundle. Certificates from
 * the real CA library in temporary directories.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../../../src/ca/authority.js';
import { createCsr } from '../../../src/ca/csr.js';
import { generatePrivateKey } from '../../../src/ca/keys.js';
import { LocalTokenIssuer } from '../../../src/ca/token.js';
import { checkIssuedChain } from '../../../src/proxy/identity/issued-chain.js';
import { tokenIdentity } from '../../../src/proxy/identity/token-identity.js';

const ID = { namespace: 'default', serviceAccount: 'web' };
const SPIFFE = 'spiffe://cluster.local/ns/default/sa/web';
let work: string;
let ca: CertificateAuthority;
let other: CertificateAuthority;
const roots = (c: CertificateAuthority) => c.rootCertificates().map((p) => new X509Certificate(p));

before(() => {
  work = mkdtempSync(join(tmpdir(), 'trellis-issued-'));
  ca = CertificateAuthority.open({ dir: join(work, 'a') });
  other = CertificateAuthority.open({ dir: join(work, 'b') });
});
after(() => rmSync(work, { recursive: true, force: true }));

function answer(by: CertificateAuthority, key = generatePrivateKey('ec'), ttl = 3600) {
  const chain = by.sign(createCsr(key, SPIFFE), ID, ttl).certChain;
  return { key, response: [...chain, ...by.rootCertificates()] };
}

test('a good answer: leaf for our key and id, the root as the bundle', () => {
  const { key, response } = answer(ca);
  const c = checkIssuedChain(response, key, SPIFFE, roots(ca));
  assert.equal(c.spiffeId, SPIFFE);
  assert.equal(new X509Certificate(c.rootsPem).fingerprint256, roots(ca)[0]!.fingerprint256);
  assert.ok(c.notAfter.getTime() - Date.now() <= 3600_000);
});

test('an answer without roots uses root-cert.pem as the bundle', () => {
  const key = generatePrivateKey('ec');
  const chain = ca.sign(createCsr(key, SPIFFE), ID).certChain;
  const c = checkIssuedChain(chain, key, SPIFFE, roots(ca));
  assert.equal(new X509Certificate(c.rootsPem).fingerprint256, roots(ca)[0]!.fingerprint256);
});

test('refused: another key, another id, a chain to a root not in the bundle, an expired leaf', () => {
  const { response } = answer(ca);
  assert.throws(() => checkIssuedChain(response, generatePrivateKey('ec'), SPIFFE, roots(ca)), /not for our key/);
  const { key, response: r2 } = answer(ca);
  assert.throws(() => checkIssuedChain(r2, key, 'spiffe://cluster.local/ns/default/sa/other', roots(ca)), /is for \["spiffe:\/\/cluster.local\/ns\/default\/sa\/web"\]/);
  const foreign = answer(other);
  // A leaf from another CA, and that CA's root dropped from the answer: nothing we trust signed it.
  assert.throws(() => checkIssuedChain(foreign.response.slice(0, -1), foreign.key, SPIFFE, roots(ca)), /does not lead to a root/);
  const { key: k3, response: r3 } = answer(ca);
  assert.throws(() => checkIssuedChain(r3, k3, SPIFFE, roots(ca), new Date(Date.now() + 2 * 3600_000)), /not valid now/);
  assert.throws(() => checkIssuedChain([], k3, SPIFFE, roots(ca)), /no certificate/);
  assert.throws(() => checkIssuedChain(['garbage'], k3, SPIFFE, roots(ca)), /does not parse/);
});

test('the token names the identity the CSR asks for; a token that is not a service-account JWT is refused', () => {
  const issuer = LocalTokenIssuer.open(join(work, 'a'));
  assert.deepEqual(tokenIdentity(issuer.createToken({ ...ID, ttlSeconds: 60 })), ID);
  assert.throws(() => tokenIdentity('not-a-jwt'), /not a JWT/);
  assert.throws(() => tokenIdentity(`x.${Buffer.from('{"sub":"alice"}').toString('base64url')}.y`), /system:serviceaccount/);
  assert.throws(() => tokenIdentity(`x.${Buffer.from('{"sub":"system:serviceaccount:a/b:c"}').toString('base64url')}.y`), /DNS label/);
});
