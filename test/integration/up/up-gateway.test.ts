/**
 * Issue 13, item 7, end to end through `trellis up` (netns mode, as root):
 * curl over HTTPS to an ingress gateway in front of two meshed services.
 * The fixture (test/fixtures/up-gateway) declares a Gateway selecting
 * istio=ingressgateway and no gateway workload, so `up` starts Istio's
 * default istio-ingressgateway: a pod running `trellis proxy` as a router,
 * its HTTPS port published on 127.0.0.1. The certificate is a Secret the
 * test writes (credentialName, served over SDS by the control plane); the
 * gateway routes to front, front calls backend, every hop mTLS (STRICT
 * mesh-wide: a pod without a sidecar is refused, the control); an AuthorizationPolicy on the
 * gateway pod denies /admin with 403. Everything stays in the run's
 * namespaces and on this machine's loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import { FIXTURES, UpRun, fixtureCopy } from './up-run.js';
import { curl, eventually } from '../e2e/curl.js';

const HOST = 'shop.example.test';

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('sh', ['-c', 'command -v ip && command -v iptables-restore && command -v curl && command -v openssl'], { stdio: 'ignore' }).status !== 0) return 'needs ip, iptables-restore, curl, openssl';
  return false;
}

describe('trellis up: an HTTPS ingress gateway in front of two meshed services', { skip: skipReason(), timeout: 120_000 }, () => {
  let dir: string;
  let up: UpRun;
  let port: number;

  before(async () => {
    dir = fixtureCopy('up-gateway');
    // The apps are up-mesh's (front calls backend by kubelet's variables).
    copyFileSync(join(FIXTURES, 'up-mesh', 'app.mjs'), join(dir, 'app.mjs'));
    chmodSync(join(dir, 'app.mjs'), 0o644);
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`, '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const b64 = (f: string) => readFileSync(f).toString('base64');
    writeFileSync(join(dir, 'secret.yaml'), `apiVersion: v1\nkind: Secret\nmetadata: {name: shop-cert, namespace: istio-system}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(cert)}\n  tls.key: ${b64(key)}\n`);
    // The gateway's Service, as Istio's chart declares it but with a target port free on this machine
    // (the gateway's listener, published at the same number on 127.0.0.1).
    port = await freePort();
    writeFileSync(join(dir, 'ingress-service.yaml'), `apiVersion: v1\nkind: Service\nmetadata: {name: istio-ingressgateway, namespace: istio-system}\nspec:\n  selector: {istio: ingressgateway}\n  ports: [{name: https, port: 443, targetPort: ${port}}]\n`);
    up = new UpRun(dir);
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const https = (path: string) => curl(['--resolve', `${HOST}:${port}:127.0.0.1`, '--cacert', join(dir, 'tls.crt'), `https://${HOST}:${port}${path}`]);

  test('up says where the gateway is published, and starts Istio\'s default gateway pod', async () => {
    const m = await up.waitFor(/^✓ ingress gateway istio-system\/(istio-ingressgateway-\S+): HTTPS on https:\/\/127\.0\.0\.1:(\d+) \(its port (\d+), Gateway istio-system\/shop-gateway\)/, 90_000);
    assert.equal(Number(m[2]), port);
    assert.equal(Number(m[3]), port);
    await up.waitFor(/^✓ shop at https:\/\/127\.0\.0\.1:\d+\//, 5000);
    await up.allReady(30_000);
    const pods = up.cli(['get', 'pods', '-n', 'istio-system']);
    assert.match(pods.stdout, new RegExp(`^${m[1]}\\s+1/1\\s+Running`, 'm'), pods.stdout);
    // kubectl exec into a gateway runs in its proxy's container.
    const id = up.cli(['exec', '-n', 'istio-system', m[1]!, '--', 'id', '-u']);
    assert.equal(id.stdout.trim(), '1337', id.stderr);
  });

  test('curl over HTTPS (the Secret\'s certificate, by SNI) reaches backend through the gateway and front, mTLS on every hop', async () => {
    const c = await eventually(() => https('/'), (x) => x.status === '200');
    assert.equal(c.status, '200', `${c.stderr}\n${c.body}\n${up.lines.slice(-30).join('\n')}`);
    assert.match(c.body, /^front\(front-\S+\) -> backend\(backend-\S+ in shop, sa backend\)$/);
    // The control: a pod without a sidecar speaks plaintext to front, which STRICT refuses.
    const plain = up.cli(['exec', '-n', 'shop', 'plain', '--', 'curl', '-sS', '--max-time', '5', 'http://front.shop/']);
    assert.notEqual(plain.code, 0, `plaintext to front must be refused: ${plain.stdout}`);
    assert.doesNotMatch(plain.stdout, /front\(/);
  });

  test('the AuthorizationPolicy on the gateway pod denies /admin with 403; other paths pass', async () => {
    const denied = await https('/admin');
    assert.equal(denied.status, '403', denied.body);
    assert.equal(denied.body, 'RBAC: access denied');
    assert.equal((await https('/admin/users')).status, '403');
    assert.equal((await https('/administrator')).status, '200', 'the control: a path the policy does not name');
  });

  test('the gateway presents only for its host: another SNI gets no certificate', async () => {
    const c = await curl(['--resolve', `other.example.test:${port}:127.0.0.1`, '-k', `https://other.example.test:${port}/`]);
    assert.notEqual(c.code, 0, 'no filter chain matches the SNI: the handshake fails');
  });
});
