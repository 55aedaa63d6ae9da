/**
 * PKCS#10: requests made by `openssl req` parse (EC P-256/P-384, RSA 2048)
 * or are refused for their key (RSA 1024, P-521, Ed25519); createCsr's output
 * is accepted by `openssl req -verify`; a request whose bytes were changed
 * after signing is refused.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createCsr, parseCsr } from '../../../src/ca/csr.js';
import { encodePem, pemBlocks } from '../../../src/ca/pem.js';
import { openssl, Scratch, type CsrKey } from '../../helpers/openssl.js';

const id = 'spiffe://cluster.local/ns/default/sa/reviews';
const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

describe('parseCsr on openssl-made requests', () => {
  const s = new Scratch();
  after(() => s.remove());

  const accepted: Array<[CsrKey, 'ec' | 'rsa']> = [['ec', 'ec'], ['ec384', 'ec'], ['rsa2048', 'rsa']];
  for (const [key, keyType] of accepted) {
    test(`${key}: key, type and URI SAN`, () => {
      const r = s.csr(key, [id]);
      const p = parseCsr(r.csrPem);
      assert.equal(p.keyType, keyType);
      assert.deepEqual(p.uriSans, [id]);
      // The parsed key is the requester's: same SPKI as openssl's private key yields.
      const expected = createPublicKey(createPrivateKey(r.keyPem)).export({ type: 'spki', format: 'der' });
      assert.ok(p.spki.equals(expected));
      assert.ok(p.publicKey.export({ type: 'spki', format: 'der' }).equals(expected));
    });
  }

  test('several URI SANs are all reported; none gives an empty list', () => {
    assert.deepEqual(parseCsr(s.csr('ec', [id, 'spiffe://cluster.local/ns/x/sa/y']).csrPem).uriSans, [id, 'spiffe://cluster.local/ns/x/sa/y']);
    assert.deepEqual(parseCsr(s.csr('ec', []).csrPem).uriSans, []);
  });

  const refused: Array<[CsrKey, RegExp]> = [['rsa1024', /RSA key of 1024 bits/], ['ec521', /only P-256 and P-384/], ['ed25519', /not accepted/]];
  for (const [key, why] of refused) {
    test(`${key}: refused with the reason`, () => {
      assert.throws(() => parseCsr(s.csr(key, [id]).csrPem), (e: Error & { code?: string }) => e.code === 'CSR_INVALID' && why.test(e.message));
    });
  }

  test('a request changed after signing is refused (signature), and so is garbage', () => {
    const der = pemBlocks(s.csr('ec', [id]).csrPem, 'CERTIFICATE REQUEST')[0]!;
    // Change one character of the SAN inside the signed part: still valid DER, no longer the signed bytes.
    const at = der.indexOf(Buffer.from('reviews'));
    assert.ok(at > 0);
    const forged = Buffer.from(der);
    forged[at] = 'R'.charCodeAt(0);
    assert.throws(() => parseCsr(encodePem('CERTIFICATE REQUEST', forged)), (e: Error) => /signature does not verify/.test(e.message));
    for (const junk of ['', 'hello', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', encodePem('CERTIFICATE REQUEST', der.subarray(0, 40))]) {
      assert.throws(() => parseCsr(junk), code('CSR_INVALID'), JSON.stringify(junk.slice(0, 40)));
    }
    const two = s.csr('ec', [id]).csrPem + s.csr('ec', [id]).csrPem;
    assert.throws(() => parseCsr(two), /exactly one/);
  });
});

describe('createCsr', () => {
  const s = new Scratch();
  after(() => s.remove());

  const keys = [
    ['P-256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey],
    ['P-384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey],
    ['RSA 2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
  ] as const;
  for (const [name, key] of keys) {
    test(`${name}: openssl verifies it and reads the SAN; parseCsr reads it back`, () => {
      const pem = createCsr(key, id);
      const r = openssl(['req', '-noout', '-text', '-verify'], { input: pem });
      assert.ok(r.ok, r.out);
      assert.match(r.out, /verify OK/i);
      assert.match(r.out, new RegExp(`URI:${id.replace(/[/.]/g, '\\$&')}`));
      assert.match(r.out, /Subject Alternative Name: critical/);
      const p = parseCsr(pem);
      assert.deepEqual(p.uriSans, [id]);
      assert.ok(p.spki.equals(createPublicKey(key).export({ type: 'spki', format: 'der' })));
    });
  }
});
