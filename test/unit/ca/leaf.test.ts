/**
 * What the CA issues, judged by others: `openssl verify -purpose sslserver`
 * and `sslclient` against root-cert.pem, `openssl x509 -text` for the
 * X.509-SVID profile, node's X509Certificate, and a real node:tls mutual-TLS
 * handshake between two issued leaves (and a refused one with a foreign leaf).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { CertificateAuthority } from '../../../src/ca/authority.js';
import { createCsr } from '../../../src/ca/csr.js';
import { Scratch } from '../../helpers/openssl.js';
import { TestPki } from '../../helpers/pki.js';

const spiffe = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

for (const rootKey of ['ec', 'rsa'] as const) {
  describe(`leaves under a ${rootKey} root`, () => {
    let dir: string;
    let ca: CertificateAuthority;
    const s = new Scratch();
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'trellis-ca-'));
      ca = CertificateAuthority.open({ dir: join(dir, 'ca'), keyType: rootKey, defaultTtlSeconds: 3600 });
    });
    after(() => {
      s.remove();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const leafKey of ['ec', 'rsa2048'] as const) {
      test(`${leafKey} leaf: openssl verify (server and client), X.509-SVID profile`, () => {
        const req = s.csr(leafKey, [spiffe('default', 'reviews')]);
        const t0 = Date.now();
        const { certChain } = ca.sign(req.csrPem, { namespace: 'default', serviceAccount: 'reviews' });
        assert.equal(certChain.length, 1, 'a root signs: no intermediates');
        const leaf = certChain[0]!;
        for (const purpose of ['sslserver', 'sslclient'] as const) {
          const v = s.verify(ca.rootsPem(), leaf, purpose);
          assert.ok(v.ok && /: OK/.test(v.out), `${purpose}: ${v.out}`);
        }
        const text = s.text(leaf);
        assert.match(text, /Subject: *\n/, 'empty subject');
        assert.match(text, /X509v3 Subject Alternative Name: critical\n\s+URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/reviews\n/);
        assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
        assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature(, Key Encipherment)?\n/);
        assert.equal(/Key Encipherment/.test(text), leafKey === 'rsa2048', 'keyEncipherment only for RSA keys');
        assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
        assert.match(text, /X509v3 Authority Key Identifier/);
        assert.match(text, /X509v3 Subject Key Identifier/);

        const x = new X509Certificate(leaf);
        assert.equal(x.subjectAltName, `URI:${spiffe('default', 'reviews')}`);
        assert.equal(x.ca, false);
        assert.ok(x.checkIssued(new X509Certificate(ca.rootsPem())));
        assert.ok(x.publicKey.export({ type: 'spki', format: 'der' }).equals(createPublicKey(createPrivateKey(req.keyPem)).export({ type: 'spki', format: 'der' })));
        // Backdated by istiod's two minutes; expires one TTL after signing.
        const nb = Date.parse(x.validFrom);
        const na = Date.parse(x.validTo);
        assert.ok(Math.abs(nb - (t0 - 120_000)) < 5_000, `notBefore ${x.validFrom}`);
        assert.ok(Math.abs(na - (t0 + 3600_000)) < 5_000, `notAfter ${x.validTo}`);
        const serialDigits = x.serialNumber.replace(/^0+/, '').length;
        assert.ok(serialDigits >= 25 && serialDigits <= 32, `a 128-bit random serial: ${x.serialNumber}`);
      });
    }

    test('serials differ between leaves of the same key', () => {
      const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const csr = createCsr(key, spiffe('default', 'a'));
      const serials = new Set(Array.from({ length: 20 }, () => new X509Certificate(ca.sign(csr, { namespace: 'default', serviceAccount: 'a' }).certChain[0]!).serialNumber));
      assert.equal(serials.size, 20);
    });

    test('node:tls mutual TLS between two issued leaves; a foreign client is refused', async () => {
      const issue = (sa: string): { key: string; cert: string } => {
        const key: KeyObject = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
        const cert = ca.sign(createCsr(key, spiffe('default', sa)), { namespace: 'default', serviceAccount: sa }).certChain.join('');
        return { key: key.export({ type: 'pkcs8', format: 'pem' }).toString(), cert };
      };
      const server = issue('server');
      const client = issue('client');
      const peers: string[] = [];
      const srv = tls.createServer({ key: server.key, cert: server.cert, ca: ca.rootsPem(), requestCert: true, rejectUnauthorized: true }, (sock) => {
        peers.push(sock.getPeerCertificate().subjectaltname ?? '');
        sock.end('hello');
      });
      srv.listen(0, '127.0.0.1');
      await once(srv, 'listening');
      const port = (srv.address() as { port: number }).port;
      try {
        const c = tls.connect({ host: '127.0.0.1', port, key: client.key, cert: client.cert, ca: ca.rootsPem(), checkServerIdentity: () => undefined });
        await once(c, 'secureConnect');
        assert.equal(c.authorized, true, String(c.authorizationError));
        assert.equal(c.getPeerCertificate().subjectaltname, `URI:${spiffe('default', 'server')}`);
        let body = '';
        for await (const chunk of c) body += chunk;
        assert.equal(body, 'hello');
        assert.deepEqual(peers, [`URI:${spiffe('default', 'client')}`]);

        // The same handshake with a leaf from another CA must fail: the test above could not pass by accident.
        const pki = new TestPki('foreign');
        try {
          const f = pki.leaf(spiffe('default', 'client'));
          const bad = tls.connect({ host: '127.0.0.1', port, key: f.key, cert: f.cert, ca: ca.rootsPem(), checkServerIdentity: () => undefined });
          bad.on('error', () => undefined);
          const outcome = await Promise.race([once(bad, 'close').then(() => 'closed'), once(bad, 'data').then(() => 'data')]);
          bad.destroy();
          assert.equal(outcome, 'closed');
          assert.equal(peers.length, 1, 'the foreign client never reached the handler');
        } finally {
          pki.remove();
        }
      } finally {
        srv.close();
      }
    });
  });
}
