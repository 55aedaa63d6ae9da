/**
 * The real `trellis controlplane --ca-dir` binary and the real `trellis token
 * create`: a grpc-js client calls CreateCertificate over TLS trusting only
 * root-cert.pem; the chain it gets is checked by openssl (SPIFFE URI, TTL,
 * the root last); refusals come back with their status codes and the CA keeps
 * serving; ADS on the same TLS port works with the issued certificate and is
 * refused without one or with a foreign one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, status } from '@grpc/grpc-js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { TestAdsClient, nameOfAny } from '../../helpers/ads-client.js';
import { TestCaClient, tokenCreate } from '../../helpers/ca-client.js';
import { Scratch } from '../../helpers/openssl.js';
import { TestPki } from '../../helpers/pki.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const exampleDir = fileURLToPath(new URL('../../../../examples/grpc-split/', import.meta.url));
const spiffe = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;
const sidecar = (pod: string) => `sidecar~127.0.0.9~${pod}.default~default.svc.cluster.local`;

describe('trellis controlplane --ca-dir: CreateCertificate and ADS on the TLS port', () => {
  const s = new Scratch();
  let work: string;
  let caDir: string;
  let cpProc: TrellisProcess;
  let caAddress: string;
  let debug: string;
  let roots: string;
  let client: TestCaClient;
  const clients: Array<{ close(): void }> = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'trellis-ca-cp-'));
    caDir = join(work, 'ca');
    await cp(exampleDir, join(work, 'config'), { recursive: true });
    cpProc = new TrellisProcess(['controlplane', '--config-dir', join(work, 'config'), '--xds-port', '0', '--debug-port', '0',
      '--ca-port', '0', '--ca-dir', caDir, '--cert-ttl', '60s', '--max-cert-ttl', '1h']);
    const ready = jsonLine<{ xds: string; debug: string; ca?: string }>(await cpProc.waitForLine((l) => jsonLine(l)?.xds !== undefined, 20_000))!;
    assert.ok(ready.ca, 'the start line names the CA port');
    caAddress = ready.ca;
    debug = `http://${ready.debug}`;
    roots = await readFile(join(caDir, 'root-cert.pem'), 'utf8');
    client = new TestCaClient(caAddress, roots);
    clients.push(client);
  });

  after(async () => {
    for (const c of clients) c.close();
    await cpProc?.stop();
    s.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a token from `trellis token create` gets a chain openssl verifies, with the SPIFFE URI, the TTL and the root last', async () => {
    const token = tokenCreate(caDir, 'default', 'reviews');
    const req = s.csr('ec', [spiffe('default', 'reviews')]);
    const t0 = Date.now();
    const a = await client.createCertificate(req.csrPem, token);
    assert.ok(a.ok, JSON.stringify(a));
    assert.equal(a.certChain.length, 2, 'leaf and root');
    assert.equal(a.certChain[1], roots, 'the root of root-cert.pem ends the chain');
    for (const purpose of ['sslserver', 'sslclient'] as const) {
      const v = s.verify(roots, a.certChain[0]!, purpose);
      assert.ok(v.ok, `${purpose}: ${v.out}`);
    }
    const leaf = new X509Certificate(a.certChain[0]!);
    assert.equal(leaf.subjectAltName, `URI:${spiffe('default', 'reviews')}`);
    assert.ok(Math.abs(Date.parse(leaf.validTo) - (t0 + 60_000)) < 5_000, `--cert-ttl 60s: ${leaf.validTo}`);
    // A requested lifetime within the maximum is honoured.
    const longer = await client.createCertificate(req.csrPem, token, 1800);
    assert.ok(longer.ok);
    assert.ok(Math.abs(Date.parse(new X509Certificate(longer.certChain[0]!).validTo) - (Date.now() + 1800_000)) < 5_000);
  });

  test('a CSR for another identity is PERMISSION_DENIED and logged; the next good request is served', async () => {
    const token = tokenCreate(caDir, 'default', 'reviews');
    const foreign = await client.createCertificate(s.csr('ec', [spiffe('kube-system', 'admin')]).csrPem, token);
    assert.ok(!foreign.ok);
    assert.equal(foreign.code, status.PERMISSION_DENIED);
    assert.match(foreign.details, /asks for spiffe:\/\/cluster\.local\/ns\/kube-system\/sa\/admin, but the caller proved spiffe:\/\/cluster\.local\/ns\/default\/sa\/reviews/);
    await waitFor(() => cpProc.stderr.some((l) => /certificate request refused/.test(l) && /PERMISSION_DENIED/.test(l) && /default\/reviews/.test(l)));
    const good = await client.createCertificate(s.csr('ec', [spiffe('default', 'reviews')]).csrPem, token);
    assert.ok(good.ok, JSON.stringify(good));
    // Counted under istiod's metric names.
    const metrics = await (await fetch(`${debug}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    assert.ok(value('citadel_server_id_extraction_err_count') >= 1, metrics);
    assert.ok(value('citadel_server_success_cert_issuance_count') >= 1);
    assert.ok(value('citadel_server_csr_count') >= value('citadel_server_success_cert_issuance_count') + 1);
    assert.ok(value('citadel_server_root_cert_expiry_timestamp') > Date.now() / 1000);
  });

  test('bad CSRs are INVALID_ARGUMENT: garbage, 1 MB, RSA 1024, a TTL above --max-cert-ttl', async () => {
    const token = tokenCreate(caDir, 'default', 'reviews');
    const cases: Array<[string, string, number, RegExp]> = [
      ['garbage', 'hello, CA', 0, /exactly one PEM CERTIFICATE REQUEST/],
      ['1 MB', 'A'.repeat(1024 * 1024), 0, /CSR of 1048576 bytes refused/],
      ['RSA 1024', s.csr('rsa1024', [spiffe('default', 'reviews')]).csrPem, 0, /RSA key of 1024 bits/],
      ['TTL above the max', s.csr('ec', [spiffe('default', 'reviews')]).csrPem, 7200, /requested TTL 7200s is greater than the max allowed TTL 3600s/],
    ];
    for (const [name, csr, ttl, why] of cases) {
      const a = await client.createCertificate(csr, token, ttl);
      assert.ok(!a.ok, name);
      assert.equal(a.code, status.INVALID_ARGUMENT, `${name}: ${a.details}`);
      assert.match(a.details, why, name);
    }
    assert.ok((await client.createCertificate(s.csr('rsa2048', [spiffe('default', 'reviews')]).csrPem, token)).ok, 'still serving');
  });

  test('no token, an expired token, a token for another audience: UNAUTHENTICATED', async () => {
    const csr = s.csr('ec', [spiffe('default', 'reviews')]).csrPem;
    const expired = tokenCreate(caDir, 'default', 'reviews', ['--ttl', '1s']);
    const wrongAudience = tokenCreate(caDir, 'default', 'reviews', ['--audience', 'kubernetes']);
    await new Promise((r) => setTimeout(r, 2100));
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['none', undefined, /authentication required/],
      ['expired', expired, /token refused: token expired/],
      ['wrong audience', wrongAudience, /does not include istio-ca/],
      ['not a JWT', 'abc', /not a JWS/],
    ];
    for (const [name, token, why] of cases) {
      const a = await client.createCertificate(csr, token);
      assert.ok(!a.ok, name);
      assert.equal(a.code, status.UNAUTHENTICATED, `${name}: ${a.details}`);
      assert.match(a.details, why, name);
    }
  });

  test('ADS on the TLS port: listeners with the issued client certificate; refused without one or with a foreign one', async () => {
    const token = tokenCreate(caDir, 'default', 'greeter-client');
    const req = s.csr('ec', [spiffe('default', 'greeter-client')]);
    const a = await client.createCertificate(req.csrPem, token);
    assert.ok(a.ok);
    const port = Number(caAddress.split(':')[1]);

    const withCert = new TestAdsClient(port, credentials.createSsl(Buffer.from(roots), Buffer.from(req.keyPem), Buffer.from(a.certChain.slice(0, -1).join(''))));
    clients.push(withCert);
    const sotw = withCert.sotw(sidecar('tls-client'));
    sotw.request(TypeUrl.Listener);
    const lds = await sotw.next(10_000);
    assert.equal(lds.typeUrl, TypeUrl.Listener);
    assert.ok(lds.resources.map(nameOfAny).includes('virtualOutbound'), lds.resources.map(nameOfAny).join(' '));

    const anonymous = new TestAdsClient(port, credentials.createSsl(Buffer.from(roots)));
    const pki = new TestPki('foreign');
    try {
      const f = pki.leaf(spiffe('default', 'greeter-client'));
      const foreign = new TestAdsClient(port, credentials.createSsl(Buffer.from(roots), Buffer.from(f.key), Buffer.from(f.cert)));
      clients.push(anonymous, foreign);
      for (const [name, c] of [['no client certificate', anonymous], ['a foreign client certificate', foreign]] as const) {
        const st = c.sotw(sidecar(`refused-${name.length}`));
        st.request(TypeUrl.Listener);
        await waitFor(() => st.error !== undefined, 10_000);
        assert.equal(await st.quiet(50), true, `${name}: no response was sent`);
        assert.equal((st.error as Error & { code?: number }).code, status.UNAUTHENTICATED, name);
        assert.match(st.error!.message, /needs a client certificate/);
      }
    } finally {
      pki.remove();
    }
  });
});

describe('the TLS port renews its own certificate', () => {
  const s = new Scratch();
  let work: string;
  let cpProc: TrellisProcess;
  const clients: Array<{ close(): void }> = [];
  after(async () => {
    for (const c of clients) c.close();
    await cpProc?.stop();
    s.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a new serving certificate before the old one expires; an open ADS stream keeps working', async () => {
    work = await mkdtemp(join(tmpdir(), 'trellis-ca-rotate-'));
    const caDir = join(work, 'ca');
    await cp(exampleDir, join(work, 'config'), { recursive: true });
    cpProc = new TrellisProcess(['controlplane', '--config-dir', join(work, 'config'), '--xds-port', '0', '--debug-port', '0', '--ca-port', '0', '--ca-dir', caDir, '--cert-ttl', '3s']);
    const ready = jsonLine<{ ca: string }>(await cpProc.waitForLine((l) => jsonLine(l)?.ca !== undefined, 20_000))!;
    const roots = await readFile(join(caDir, 'root-cert.pem'), 'utf8');
    const port = Number(ready.ca.split(':')[1]);
    const serving = () => servingCertificate(s, port, roots);

    const ca = new TestCaClient(ready.ca, roots);
    clients.push(ca);
    const req = s.csr('ec', [spiffe('default', 'rotator')]);
    const a = await ca.createCertificate(req.csrPem, tokenCreate(caDir, 'default', 'rotator'));
    assert.ok(a.ok);
    const ads = new TestAdsClient(port, credentials.createSsl(Buffer.from(roots), Buffer.from(req.keyPem), Buffer.from(a.certChain[0]!)));
    clients.push(ads);
    const stream = ads.sotw(sidecar('rotator'));
    stream.request(TypeUrl.Cluster);
    stream.ack(await stream.next(10_000));

    const first = serving();
    let second = first;
    for (let i = 0; i < 40 && second.serial === first.serial; i++) {
      await new Promise((r) => setTimeout(r, 250));
      second = serving();
    }
    assert.notEqual(second.serial, first.serial, 'renewed within 10 s with a 3 s lifetime');
    assert.ok(second.verified, 'the new serving certificate verifies against root-cert.pem');
    assert.ok(Date.parse(second.notAfter) > Date.parse(first.notAfter));
    // The stream opened under the first certificate (and a client certificate that has since expired) still answers.
    stream.request(TypeUrl.Listener);
    const lds = await stream.next(10_000);
    assert.equal(lds.typeUrl, TypeUrl.Listener);
    assert.equal(stream.error, undefined);
  });
});

/** The TLS port's certificate as `openssl s_client` sees it: serial, expiry, and whether it verified against `roots`. */
function servingCertificate(s: Scratch, port: number, roots: string): { serial: string; notAfter: string; verified: boolean } {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-alpn', 'h2', '-CAfile', s.file('roots.pem', roots), '-verify_return_error'], { input: '', encoding: 'utf8', timeout: 10_000 });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(r.stdout)?.[0];
  assert.ok(pem, r.stdout + r.stderr);
  const x = new X509Certificate(pem);
  return { serial: x.serialNumber, notAfter: x.validTo, verified: /Verify return code: 0 \(ok\)/.test(r.stdout) };
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
