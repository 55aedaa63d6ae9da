/**
 * Fuzz: what the CA reads from callers — PKCS#10 requests (src/ca/csr.ts,
 * der.ts) and workload tokens (token.ts) — and, for good measure, the
 * certificate reader. Mutated valid inputs and random bytes must end in a
 * result or a TrellisError with the parser's own code, never another kind of
 * exception; an accepted mutated CSR must still name the original key and
 * SANs (the signature covers them), an accepted mutated token the original
 * identity.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { TrellisError } from '../../src/errors.js';
import { CertificateAuthority } from '../../src/ca/authority.js';
import { readCertificate } from '../../src/ca/certificate-reader.js';
import { createCsr, parseCsr, parseCsrDer, type ParsedCsr } from '../../src/ca/csr.js';
import { encodePem, pemBlocks } from '../../src/ca/pem.js';
import { LocalTokenIssuer } from '../../src/ca/token.js';
import { fuzz, mutated } from './harness.js';

const uri = 'spiffe://cluster.local/ns/default/sa/fuzz';
const csrs: Array<{ der: Buffer; parsed: ParsedCsr }> = [];
const leaves: Buffer[] = [];
let tokens: LocalTokenIssuer;
let token: string;

/** Runs `fn`; a TrellisError with one of `codes` counts as a clean refusal, anything else thrown fails the case. */
function refusedCleanly<T>(fn: () => T, codes: RegExp): T | undefined {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof TrellisError, `not a TrellisError: ${(err as Error)?.stack ?? String(err)}`);
    assert.match(err.code, codes);
    return undefined;
  }
}

before(() => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-fuzz-ca-'));
  try {
    const ca = CertificateAuthority.open({ dir: join(dir, 'ca') });
    for (const key of [
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    ]) {
      const pem = createCsr(key, uri);
      csrs.push({ der: pemBlocks(pem, 'CERTIFICATE REQUEST')[0]!, parsed: parseCsr(pem) });
      leaves.push(pemBlocks(ca.sign(pem, { namespace: 'default', serviceAccount: 'fuzz' }).certChain[0]!, 'CERTIFICATE')[0]!);
    }
    tokens = LocalTokenIssuer.open(dir);
    token = tokens.createToken({ namespace: 'default', serviceAccount: 'fuzz', ttlSeconds: 3600 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fuzz: mutated CSRs are refused with CSR_INVALID/DER_MALFORMED or still name the signed key and SANs', async (t) => {
  const pick = fc.nat().map((i) => csrs[i % csrs.length]!);
  await fuzz('csr (mutated)', fc.property(pick.chain((c) => fc.tuple(fc.constant(c), mutated(fc.constant(Uint8Array.from(c.der)), 8))), ([c, bytes]) => {
    const p = refusedCleanly(() => parseCsrDer(Buffer.from(bytes)), /^(CSR_INVALID|DER_MALFORMED)$/);
    if (!p) return;
    assert.ok(p.spki.equals(c.parsed.spki), 'an accepted request carries the key that signed it');
    assert.deepEqual(p.uriSans, c.parsed.uriSans);
  }), 400, t);
});

test('fuzz: random bytes and random PEM text never escape as anything but a refusal', async (t) => {
  await fuzz('csr (random)', fc.property(fc.uint8Array({ maxLength: 600 }), fc.string({ maxLength: 300 }), (bytes, text) => {
    refusedCleanly(() => parseCsrDer(Buffer.from(bytes)), /^(CSR_INVALID|DER_MALFORMED)$/);
    refusedCleanly(() => parseCsr(encodePem('CERTIFICATE REQUEST', Buffer.from(bytes))), /^(CSR_INVALID|DER_MALFORMED)$/);
    refusedCleanly(() => parseCsr(text), /^(CSR_INVALID|DER_MALFORMED)$/);
  }), 400, t);
});

test('fuzz: mutated certificates read cleanly or are DER_MALFORMED', async (t) => {
  const pick = fc.nat().map((i) => leaves[i % leaves.length]!);
  await fuzz('certificate reader (mutated)', fc.property(pick.chain((l) => mutated(fc.constant(Uint8Array.from(l)), 8)), (bytes) => {
    refusedCleanly(() => readCertificate(Buffer.from(bytes)), /^DER_MALFORMED$/);
  }), 400, t);
});

test('fuzz: mutated tokens are refused with a TOKEN_* code or prove the same identity', async (t) => {
  const asBytes = fc.constant(Uint8Array.from(Buffer.from(token)));
  await fuzz('token (mutated)', fc.property(mutated(asBytes, 6), (bytes) => {
    const id = refusedCleanly(() => tokens.verifyToken(Buffer.from(bytes).toString('latin1'), 'istio-ca'), /^TOKEN_/);
    if (id) assert.deepEqual(id, { namespace: 'default', serviceAccount: 'fuzz' });
  }), 400, t);
});

test('regression: empty version, extensions and Extension wrappers are DER_MALFORMED, not TypeErrors', async () => {
  const { explicit, sequence, time, tlv } = await import('../../src/ca/der.js');
  const leaf = readCertificate(leaves[0]!);
  const tbsWith = (version: Buffer, exts: Buffer) => sequence(sequence(version, tlv(0x02, Buffer.from([1])), sequence(), leaf.issuer, sequence(time(new Date()), time(new Date())), leaf.subject, leaf.spki, exts), sequence(), tlv(0x03, Buffer.from([0])));
  const cases: Array<[Buffer, RegExp]> = [
    [tbsWith(tlv(0xa0, []), explicit(3, sequence())), /a field is missing/],
    [tbsWith(explicit(0, tlv(0x02, Buffer.from([2]))), tlv(0xa3, [])), /a field is missing/],
    [tbsWith(explicit(0, tlv(0x02, Buffer.from([2]))), explicit(3, sequence(sequence()))), /Extension: expected/],
  ];
  for (const [der, why] of cases) assert.throws(() => readCertificate(der), (e: Error & { code?: string }) => e instanceof TrellisError && e.code === 'DER_MALFORMED' && why.test(e.message));
});
