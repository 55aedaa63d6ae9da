/**
 * The CA's command line, from the real binary: a CA directory the control
 * plane refuses makes it exit 1 with the reason (and leaves the files as they
 * were), --ca-port in use names the flag, no --ca-dir means no CA at all,
 * and `trellis token create` prints a token the directory's key verifies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import { createCsr } from '../../../src/ca/csr.js';
import { LocalTokenIssuer } from '../../../src/ca/token.js';
import { TestCaClient } from '../../helpers/ca-client.js';
import { jsonLine, trellisBin, TrellisProcess } from '../../helpers/trellis-process.js';

const exampleDir = fileURLToPath(new URL('../../../../examples/grpc-split/', import.meta.url));

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [trellisBin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const controlplane = (caDir: string, extra: string[] = []) =>
  ['controlplane', '--config-dir', exampleDir, '--xds-port', '0', '--debug-port', '0', '--ca-port', '0', '--ca-dir', caDir, ...extra];
const errorLine = (stderr: string) => stderr.split('\n').find((l) => l.startsWith('trellis: ')) ?? stderr;

describe('trellis controlplane --ca-dir refusals', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'trellis-ca-cli-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** Starts the control plane once so the directory holds a CA, then stops it. */
  async function initialise(caDir: string): Promise<void> {
    const p = new TrellisProcess(controlplane(caDir));
    try {
      await p.waitForLine((l) => jsonLine(l)?.ca !== undefined, 20_000);
    } finally {
      await p.stop();
    }
  }

  test('ca-key.pem readable by others: exit 1, the file named, chmod 600 suggested', async () => {
    const caDir = join(work, 'mode');
    await initialise(caDir);
    chmodSync(join(caDir, 'ca-key.pem'), 0o644);
    const r = run(controlplane(caDir));
    assert.equal(r.code, 1, r.stderr);
    assert.match(errorLine(r.stderr), /ca-key\.pem is accessible by group or others \(mode 0644\).*chmod 600/);
    assert.equal(r.stdout, '', 'never started serving');
  });

  test('a missing key is refused and nothing is regenerated', async () => {
    const caDir = join(work, 'gone');
    await initialise(caDir);
    const root = readFileSync(join(caDir, 'root-cert.pem'));
    unlinkSync(join(caDir, 'ca-key.pem'));
    const r = run(controlplane(caDir));
    assert.equal(r.code, 1, r.stderr);
    assert.match(errorLine(r.stderr), /holds .*root-cert\.pem.* but not ca-key\.pem/);
    assert.ok(readFileSync(join(caDir, 'root-cert.pem')).equals(root));
    assert.ok(!readdirSync(caDir).includes('ca-key.pem'));
  });

  test('--ca-port in use names the flag; bad durations and key types are usage errors', () => {
    const caDir = join(work, 'port');
    const taken = net.createServer();
    return new Promise<void>((resolve, reject) => {
      taken.listen(0, '127.0.0.1', () => {
        try {
          const port = (taken.address() as net.AddressInfo).port;
          // commander keeps the last value of a repeated flag: this one replaces controlplane()'s "--ca-port 0".
          const r = run(controlplane(caDir, ['--ca-port', String(port)]));
          assert.equal(r.code, 1, r.stderr);
          assert.match(errorLine(r.stderr), new RegExp(`port ${port} is in use \\(EADDRINUSE\\): choose another with --ca-port`));
          for (const [flags, why] of [[['--cert-ttl', '1d'], /--cert-ttl: not a duration/], [['--ca-key-type', 'dsa'], /--ca-key-type must be ec or rsa/], [['--cert-ttl', '48h', '--max-cert-ttl', '24h'], /above --max-cert-ttl/]] as const) {
            const bad = run(controlplane(join(work, 'usage'), [...flags]));
            assert.equal(bad.code, 1, bad.stderr);
            assert.match(errorLine(bad.stderr), why);
          }
          resolve();
        } catch (err) {
          reject(err);
        } finally {
          taken.close();
        }
      });
    });
  });

  test('without --ca-dir there is no CA: the start line has no "ca"', async () => {
    const p = new TrellisProcess(['controlplane', '--config-dir', exampleDir, '--xds-port', '0', '--debug-port', '0']);
    try {
      const line = jsonLine<Record<string, string>>(await p.waitForLine((l) => jsonLine(l)?.xds !== undefined, 20_000))!;
      assert.deepEqual(Object.keys(line).sort(), ['debug', 'xds']);
    } finally {
      await p.stop();
    }
  });
});

describe('trellis token create', () => {
  let caDir: string;
  before(() => {
    caDir = mkdtempSync(join(tmpdir(), 'trellis-token-cli-'));
  });
  after(() => rmSync(caDir, { recursive: true, force: true }));

  test('prints a JWT that the directory\'s token key verifies, with the TTL and audience asked for', () => {
    const r = run(['token', 'create', '--ca-dir', caDir, '--namespace', 'shop', '--service-account', 'cart', '--ttl', '2h', '--audience', 'istio-ca']);
    assert.equal(r.code, 0, r.stderr);
    const jwt = r.stdout.trim();
    assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.deepEqual(LocalTokenIssuer.open(caDir).verifyToken(jwt, 'istio-ca'), { namespace: 'shop', serviceAccount: 'cart' });
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
    assert.equal(claims.exp - claims.iat, 7200);
  });

  test('a bad namespace or duration: exit 1 with the reason', () => {
    const bad = run(['token', 'create', '--ca-dir', caDir, '--namespace', 'Not_A_Label', '--service-account', 'cart']);
    assert.equal(bad.code, 1);
    assert.match(errorLine(bad.stderr), /namespace "Not_A_Label" is not a DNS label/);
    const ttl = run(['token', 'create', '--ca-dir', caDir, '--namespace', 'shop', '--service-account', 'cart', '--ttl', 'forever']);
    assert.equal(ttl.code, 1);
    assert.match(errorLine(ttl.stderr), /--ttl: not a duration/);
  });

  test('before the control plane ever ran: the directory and key are created, and the control plane then accepts the token', async () => {
    const fresh = join(caDir, 'fresh');
    const r = run(['token', 'create', '--ca-dir', fresh, '--namespace', 'shop', '--service-account', 'cart']);
    assert.equal(r.code, 0, r.stderr);
    const p = new TrellisProcess(['controlplane', '--config-dir', exampleDir, '--xds-port', '0', '--debug-port', '0', '--ca-port', '0', '--ca-dir', fresh]);
    try {
      const ready = jsonLine<{ ca: string }>(await p.waitForLine((l) => jsonLine(l)?.ca !== undefined, 20_000))!;
      assert.deepEqual(readdirSync(fresh).sort(), ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'token-key.pem']);
      const client = new TestCaClient(ready.ca, readFileSync(join(fresh, 'root-cert.pem'), 'utf8'));
      try {
        const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
        const a = await client.createCertificate(createCsr(key, 'spiffe://cluster.local/ns/shop/sa/cart'), r.stdout.trim());
        assert.ok(a.ok, JSON.stringify(a));
      } finally {
        client.close();
      }
    } finally {
      await p.stop();
    }
  });
});
