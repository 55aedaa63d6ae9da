/**
 * The CA directory and the authority's rules: files and modes on first start,
 * the same root on the next, refusals (key readable by others, a key gone
 * missing, a certificate that is not the key's, an expired signer), an
 * operator's intermediate in Istio's plugged-in layout (checked by openssl),
 * lifetimes as istiod applies them, identities, and root rotation with
 * overlapping trust as docs/ARCHITECTURE.md describes it.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateAuthority } from '../../../src/ca/authority.js';
import { createSelfSignedRoot } from '../../../src/ca/certificate.js';
import { createCsr } from '../../../src/ca/csr.js';
import { commonName, distinguishedName } from '../../../src/ca/extensions.js';
import { privateKeyPem } from '../../../src/ca/keys.js';
import { certificatePem } from '../../../src/ca/pem.js';
import { openssl, Scratch } from '../../helpers/openssl.js';

const who = { namespace: 'default', serviceAccount: 'reviews' };
const uri = 'spiffe://cluster.local/ns/default/sa/reviews';
const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const errCode = (c: string, msg?: RegExp) => (e: Error & { code?: string }) => e.code === c && (!msg || msg.test(e.message));

describe('the CA directory', () => {
  const s = new Scratch();
  let n = 0;
  let dir: string;
  beforeEach(() => {
    dir = join(s.dir, `ca${++n}`);
  });
  after(() => s.remove());

  test('first start: a root in ca-cert.pem and root-cert.pem (0644), the key in ca-key.pem (0600)', () => {
    const ca = CertificateAuthority.open({ dir });
    assert.equal(ca.created, true);
    assert.deepEqual(readdirSync(dir).sort(), ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem']);
    assert.equal(statSync(join(dir, 'ca-key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'root-cert.pem')).mode & 0o777, 0o644);
    assert.equal(readFileSync(join(dir, 'ca-cert.pem'), 'utf8'), readFileSync(join(dir, 'root-cert.pem'), 'utf8'));
    const text = s.text(readFileSync(join(dir, 'root-cert.pem'), 'utf8'));
    assert.match(text, /Basic Constraints: critical\n\s+CA:TRUE/);
    assert.match(text, /Key Usage: critical\n\s+Certificate Sign, CRL Sign/);
    assert.match(text, /Subject: O = cluster.local, CN = Trellis root CA/);
    assert.equal(ca.rootsPem(), readFileSync(join(dir, 'root-cert.pem'), 'utf8'));
  });

  test('the next start loads the same root and signs under it', () => {
    CertificateAuthority.open({ dir });
    const before = readFileSync(join(dir, 'root-cert.pem'), 'utf8');
    const again = CertificateAuthority.open({ dir });
    assert.equal(again.created, false);
    assert.equal(readFileSync(join(dir, 'root-cert.pem'), 'utf8'), before);
    const leaf = again.sign(createCsr(ecKey(), uri), who).certChain[0]!;
    assert.ok(s.verify(before, leaf, 'sslclient').ok);
  });

  test('a key file readable by group or others is refused, with the fix in the message', () => {
    CertificateAuthority.open({ dir });
    for (const mode of [0o640, 0o604, 0o644, 0o660]) {
      chmodSync(join(dir, 'ca-key.pem'), mode);
      assert.throws(() => CertificateAuthority.open({ dir }), errCode('CA_DIR', /accessible by group or others .*chmod 600/));
    }
    chmodSync(join(dir, 'ca-key.pem'), 0o400);
    assert.equal(CertificateAuthority.open({ dir }).created, false);
  });

  test('certificates without their key are refused, never replaced by a new root', () => {
    CertificateAuthority.open({ dir });
    const root = readFileSync(join(dir, 'root-cert.pem'));
    unlinkSync(join(dir, 'ca-key.pem'));
    assert.throws(() => CertificateAuthority.open({ dir }), errCode('CA_DIR', /but not ca-key\.pem/));
    assert.ok(readFileSync(join(dir, 'root-cert.pem')).equals(root));
    assert.equal(existsSync(join(dir, 'ca-key.pem')), false);
    // Only a root-cert.pem (e.g. copied for trust) is not an invitation to make a root either.
    const other = join(s.dir, `only-root${n}`);
    mkdirSync(other);
    writeFileSync(join(other, 'root-cert.pem'), root);
    assert.throws(() => CertificateAuthority.open({ dir: other }), errCode('CA_DIR'));
    assert.deepEqual(readdirSync(other), ['root-cert.pem']);
  });

  test('a ca-cert.pem of another key, an expired signer, and a non-CA signer are refused', () => {
    CertificateAuthority.open({ dir });
    const foreign = join(s.dir, `foreign${n}`);
    CertificateAuthority.open({ dir: foreign });
    const own = readFileSync(join(dir, 'ca-cert.pem'));
    copyFileSync(join(foreign, 'ca-cert.pem'), join(dir, 'ca-cert.pem'));
    assert.throws(() => CertificateAuthority.open({ dir }), errCode('CA_DIR', /does not belong/));
    writeFileSync(join(dir, 'ca-cert.pem'), own);

    const key = ecKey();
    const expired = certificatePem(createSelfSignedRoot({ key, subject: distinguishedName([commonName('old')]), notBefore: new Date(Date.now() - 86400_000 * 2), notAfter: new Date(Date.now() - 86400_000) }));
    const old = join(s.dir, `expired${n}`);
    mkdirSync(old);
    writeFileSync(join(old, 'ca-key.pem'), privateKeyPem(key), { mode: 0o600 });
    writeFileSync(join(old, 'ca-cert.pem'), expired);
    writeFileSync(join(old, 'root-cert.pem'), expired);
    assert.throws(() => CertificateAuthority.open({ dir: old }), errCode('CA_DIR', /expired/));

    const leafDir = join(s.dir, `leaf${n}`);
    mkdirSync(leafDir);
    const leafReq = s.csr('ec', [uri]);
    const leaf = CertificateAuthority.open({ dir: join(s.dir, `issuer${n}`) }).sign(leafReq.csrPem, who).certChain[0]!;
    writeFileSync(join(leafDir, 'ca-key.pem'), leafReq.keyPem, { mode: 0o600 });
    writeFileSync(join(leafDir, 'ca-cert.pem'), leaf);
    writeFileSync(join(leafDir, 'root-cert.pem'), readFileSync(join(s.dir, `issuer${n}`, 'root-cert.pem')));
    assert.throws(() => CertificateAuthority.open({ dir: leafDir }), errCode('CA_DIR', /not a CA certificate/));
  });
});

describe("an operator's intermediate (Istio's plugged-in layout)", () => {
  const s = new Scratch();
  const dir = join(s.dir, 'cacerts');
  let rootPem: string;
  let intermediatePem: string;
  before(() => {
    mkdirSync(dir);
    const run = (args: string[]) => {
      const r = openssl(args, { cwd: s.dir });
      assert.ok(r.ok, r.out);
    };
    run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '30',
      '-subj', '/O=cluster.local/CN=Operator Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'cacerts/ca-key.pem', '-out', 'int.csr', '-subj', '/O=cluster.local/CN=Intermediate CA']);
    writeFileSync(join(s.dir, 'int.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    run(['x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'cacerts/ca-cert.pem', '-days', '2', '-extfile', 'int.ext']);
    rootPem = readFileSync(join(s.dir, 'root.pem'), 'utf8');
    intermediatePem = readFileSync(join(dir, 'ca-cert.pem'), 'utf8');
    // As istioctl's tooling writes it: cert-chain.pem is the intermediate followed by the root.
    writeFileSync(join(dir, 'cert-chain.pem'), intermediatePem + rootPem);
    writeFileSync(join(dir, 'root-cert.pem'), rootPem);
    chmodSync(join(dir, 'ca-key.pem'), 0o600);
  });
  after(() => s.remove());

  test('signs with ca-key.pem; the chain is leaf + intermediate; openssl verifies it only with the intermediate', () => {
    const ca = CertificateAuthority.open({ dir });
    assert.equal(ca.created, false);
    const { certChain } = ca.sign(s.csr('ec', [uri]).csrPem, who);
    assert.equal(certChain.length, 2, 'the root stays out of the chain (it is in the bundle)');
    assert.equal(new X509Certificate(certChain[1]!).fingerprint256, new X509Certificate(intermediatePem).fingerprint256);
    for (const purpose of ['sslserver', 'sslclient'] as const) {
      const v = s.verify(rootPem, certChain[0]!, purpose, certChain[1]);
      assert.ok(v.ok, `${purpose}: ${v.out}`);
    }
    assert.equal(s.verify(rootPem, certChain[0]!, 'sslclient').ok, false, 'without the intermediate the leaf does not verify');
    assert.equal(ca.rootsPem(), rootPem);
    assert.match(s.text(certChain[0]!), /Issuer: O = cluster.local, CN = Intermediate CA/);
  });

  test('a leaf never outlives the intermediate that signs it', () => {
    const ca = CertificateAuthority.open({ dir, maxTtlSeconds: 30 * 86400 });
    const leaf = new X509Certificate(ca.sign(s.csr('ec', [uri]).csrPem, who, 10 * 86400).certChain[0]!);
    assert.equal(leaf.validTo, new X509Certificate(intermediatePem).validTo);
  });

  test('without cert-chain.pem the intermediate still chains (it is signed by a root of the bundle)', () => {
    const copy = join(s.dir, 'no-chain');
    mkdirSync(copy);
    for (const f of ['ca-key.pem', 'ca-cert.pem', 'root-cert.pem']) copyFileSync(join(dir, f), join(copy, f));
    assert.equal(CertificateAuthority.open({ dir: copy }).sign(s.csr('ec', [uri]).csrPem, who).certChain.length, 2);
    // A bundle without the intermediate's root: the CA refuses to start rather than hand out unverifiable chains.
    writeFileSync(join(copy, 'root-cert.pem'), CertificateAuthority.open({ dir: join(s.dir, 'unrelated') }).rootsPem());
    assert.throws(() => CertificateAuthority.open({ dir: copy }), errCode('CA_DIR', /does not chain to a root/));
  });
});

describe('lifetimes and identities', () => {
  const s = new Scratch();
  let ca: CertificateAuthority;
  before(() => {
    ca = CertificateAuthority.open({ dir: join(s.dir, 'ca'), defaultTtlSeconds: 600, maxTtlSeconds: 7200 });
  });
  after(() => s.remove());

  const lifetime = (pem: string) => {
    const x = new X509Certificate(pem);
    return (Date.parse(x.validTo) - Date.now()) / 1000;
  };

  test('no TTL, 0 or negative: the default; a TTL up to the max: as asked; above the max: refused (istiod)', () => {
    const csr = createCsr(ecKey(), uri);
    for (const ttl of [undefined, 0, -5]) assert.ok(Math.abs(lifetime(ca.sign(csr, who, ttl).certChain[0]!) - 600) < 5, String(ttl));
    assert.ok(Math.abs(lifetime(ca.sign(csr, who, 7200).certChain[0]!) - 7200) < 5);
    assert.ok(Math.abs(lifetime(ca.sign(csr, who, 60).certChain[0]!) - 60) < 5);
    assert.throws(() => ca.sign(csr, who, 7201), errCode('CA_TTL', /requested TTL 7201s is greater than the max allowed TTL 7200s/));
    assert.throws(() => CertificateAuthority.open({ dir: join(s.dir, 'bad'), defaultTtlSeconds: 100, maxTtlSeconds: 50 }), errCode('CA_TTL'));
  });

  test('the CSR must ask for exactly the identity proven', () => {
    const key = ecKey();
    assert.throws(() => ca.sign(createCsr(key, 'spiffe://cluster.local/ns/kube-system/sa/admin'), who), errCode('CA_IDENTITY', /asks for spiffe:\/\/cluster.local\/ns\/kube-system\/sa\/admin, but the caller proved spiffe:\/\/cluster.local\/ns\/default\/sa\/reviews/));
    assert.throws(() => ca.sign(createCsr(key, 'spiffe://other.domain/ns/default/sa/reviews'), who), errCode('CA_IDENTITY'));
    assert.throws(() => ca.sign(s.csr('ec', [uri, 'spiffe://cluster.local/ns/x/sa/y']).csrPem, who), errCode('CA_IDENTITY'));
    assert.throws(() => ca.sign(s.csr('ec', []).csrPem, who), errCode('CSR_INVALID', /no URI SAN/));
    assert.equal(new X509Certificate(ca.sign(createCsr(key, uri), who).certChain[0]!).subjectAltName, `URI:${uri}`);
  });
});

describe('root rotation with overlapping trust', () => {
  const s = new Scratch();
  after(() => s.remove());

  test('add the new root to root-cert.pem, then switch the signing key, then drop the old root', () => {
    const dir = join(s.dir, 'ca');
    const ca1 = CertificateAuthority.open({ dir });
    const oldRoot = ca1.rootsPem();
    const oldLeaf = ca1.sign(createCsr(ecKey(), uri), who).certChain[0]!;
    const next = join(s.dir, 'next');
    const newRoot = CertificateAuthority.open({ dir: next }).rootsPem();

    // 1. Trust both; still signing with the old key.
    writeFileSync(join(dir, 'root-cert.pem'), oldRoot + newRoot);
    const ca2 = CertificateAuthority.open({ dir });
    assert.equal(ca2.rootCertificates().length, 2);
    assert.equal(ca2.rootsPem(), oldRoot + newRoot);
    assert.ok(s.verify(oldRoot, ca2.sign(createCsr(ecKey(), uri), who).certChain[0]!, 'sslclient').ok);

    // 2. Switch the signing key and certificate to the new root's.
    copyFileSync(join(next, 'ca-key.pem'), join(dir, 'ca-key.pem'));
    copyFileSync(join(next, 'ca-cert.pem'), join(dir, 'ca-cert.pem'));
    const ca3 = CertificateAuthority.open({ dir });
    const newLeaf = ca3.sign(createCsr(ecKey(), uri), who).certChain[0]!;
    assert.ok(s.verify(ca3.rootsPem(), newLeaf, 'sslclient').ok, 'new leaves verify against the bundle');
    assert.ok(s.verify(ca3.rootsPem(), oldLeaf, 'sslclient').ok, 'old leaves still verify during the overlap');
    assert.equal(s.verify(oldRoot, newLeaf, 'sslclient').ok, false, 'new leaves are not signed by the old root');

    // 3. Once every old leaf has expired, the old root leaves the bundle.
    writeFileSync(join(dir, 'root-cert.pem'), newRoot);
    const ca4 = CertificateAuthority.open({ dir });
    assert.equal(ca4.rootCertificates().length, 1);
    assert.equal(s.verify(ca4.rootsPem(), oldLeaf, 'sslclient').ok, false);
    assert.ok(s.verify(ca4.rootsPem(), newLeaf, 'sslclient').ok);
    assert.ok(existsSync(join(dir, 'ca-key.pem')));
    rmSync(next, { recursive: true, force: true });
  });
});
