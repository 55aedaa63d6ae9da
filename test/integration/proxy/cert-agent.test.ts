/**
 * Issue 9, the proxy's certificate agent against the real CA: the real
 * `trellis controlplane --ca-dir`, a token from the real `trellis token
 * create`, the real `trellis proxy` with --token-file. The proxy makes its own
 * key and CSR, gets a SPIFFE certificate, shows it at /certs, renews it before
 * it expires (a new serial), speaks ADS over mTLS on the CA's port with it,
 * and withdraws it at expiry when the CA is gone — never presenting an
 * expired certificate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonLine, trellisBin, TrellisProcess } from '../../helpers/trellis-process.js';
import { eventually, startProxy, type RunningProxy } from './harness.js';

const exampleDir = fileURLToPath(new URL('../../../../examples/grpc-split/', import.meta.url));

interface CertEntry { serial_number: string; subject_alt_names: Array<{ uri?: string }>; valid_from: string; expiration_time: string }
interface Certs { certificates: Array<{ ca_cert: CertEntry[]; cert_chain: CertEntry[] }> }

async function workloadCert(proxy: RunningProxy): Promise<CertEntry | undefined> {
  const certs = JSON.parse((await proxy.admin('/certs')).body) as Certs;
  return certs.certificates.find((c) => c.cert_chain.length > 0)?.cert_chain[0];
}

async function rootCount(proxy: RunningProxy): Promise<number> {
  const certs = JSON.parse((await proxy.admin('/certs')).body) as Certs;
  return certs.certificates.reduce((n, c) => n + c.ca_cert.length, 0);
}

interface ControlPlane { proc: TrellisProcess; xds: string; ca: string }

async function startControlPlane(caDir: string): Promise<ControlPlane> {
  const proc = new TrellisProcess(['controlplane', '--config-dir', exampleDir, '--xds-port', '0', '--debug-port', '0', '--ca-port', '0', '--ca-dir', caDir]);
  const line = await proc.waitForLine((l) => jsonLine(l)?.ca !== undefined, 20_000);
  const j = jsonLine<{ xds: string; ca: string }>(line)!;
  return { proc, xds: j.xds, ca: j.ca };
}

function createToken(caDir: string, file: string, sa: string): void {
  const r = spawnSync(process.execPath, [trellisBin, 'token', 'create', '--ca-dir', caDir, '--namespace', 'default', '--service-account', sa], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  writeFileSync(file, r.stdout, { mode: 0o600 });
}

const port = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

describe('the proxy\'s certificate agent with the real CA', { timeout: 120_000 }, () => {
  let work: string;
  let caDir: string;
  let tokenFile: string;
  let cp: ControlPlane;
  const proxies: RunningProxy[] = [];

  const start = async (extra: string[], xds = cp.xds) => {
    const p = await startProxy(port(xds), ['--root-cert', join(caDir, 'root-cert.pem'), '--token-file', tokenFile, ...extra], { TRELLIS_LOG: 'info' });
    proxies.push(p);
    return p;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'trellis-agent-'));
    caDir = join(work, 'ca');
    tokenFile = join(work, 'istio-token');
    cp = await startControlPlane(caDir);
    createToken(caDir, tokenFile, 'web');
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await cp?.proc.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the proxy obtains its SPIFFE certificate and the trust bundle, and renews before expiry', async () => {
    const proxy = await start(['--ca-address', cp.ca, '--cert-ttl', '10s']);
    const first = await eventually(() => workloadCert(proxy), 10_000, 'a workload certificate at /certs');
    assert.deepEqual(first.subject_alt_names, [{ uri: 'spiffe://cluster.local/ns/default/sa/web' }]);
    const life = Date.parse(first.expiration_time) - Date.now();
    assert.ok(life > 0 && life <= 10_000, `expires in ${life} ms`);
    assert.equal(await rootCount(proxy), 1, 'ROOTCA holds the CA root');
    assert.equal((await proxy.admin('/ready')).status, 200);
    // Renewal at 75–80 % of the 10 s left: a new serial well before the old one expires.
    const second = await eventually(async () => {
      const c = await workloadCert(proxy);
      return c && c.serial_number !== first.serial_number ? c : undefined;
    }, 12_000, 'a renewed certificate');
    assert.ok(Date.parse(second.valid_from) <= Date.now());
    assert.ok(Date.now() < Date.parse(first.expiration_time), 'renewed before the first one expired');
  });

  test('ADS on the CA port goes over mTLS with the workload certificate', async () => {
    const proxy = await start(['--ca-address', cp.ca], cp.ca);
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 20_000, 'proxy ready over ADS on the CA port');
    const dump = JSON.parse((await proxy.admin('/config_dump')).body) as { configs: Array<{ '@type': string; dynamicActiveClusters?: unknown[] }> };
    const clusters = dump.configs.find((c) => c['@type'].endsWith('ClustersConfigDump'))?.dynamicActiveClusters ?? [];
    assert.ok(clusters.length > 0, 'clusters arrived over the mTLS stream');
  });

  test('with the CA gone, the certificate is withdrawn at expiry and never presented expired', async () => {
    const ownCa = join(work, 'ca-short');
    const own = await startControlPlane(ownCa);
    const ownToken = join(work, 'token-short');
    createToken(ownCa, ownToken, 'short');
    const proxy = await startProxy(port(own.xds), ['--ca-address', own.ca, '--root-cert', join(ownCa, 'root-cert.pem'), '--token-file', ownToken, '--cert-ttl', '6s']);
    proxies.push(proxy);
    const cert = await eventually(() => workloadCert(proxy), 10_000, 'a workload certificate');
    await own.proc.stop();
    const expiry = Date.parse(cert.expiration_time);
    await eventually(async () => (await workloadCert(proxy)) === undefined, expiry - Date.now() + 5000, 'the expired certificate withdrawn');
    assert.ok(Date.now() >= expiry - 1000, 'not withdrawn long before its expiry');
    assert.equal(proxy.proc.exitCode, null, 'the proxy lives on');
  });
});
