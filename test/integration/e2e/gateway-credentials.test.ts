/**
 * Gateways' credentialName end to end (issue 13, item 7): the real control
 * plane reads Secrets from its config directory and serves them over SDS to
 * a real router proxy — SIMPLE from a kubernetes.io/tls Secret, MUTUAL with
 * the client CA from the Secret NAME-cacert — and curl and openssl check
 * the handshakes. A Secret edit rotates the certificate without a restart;
 * a broken one (key of another certificate) is NACKed by the proxy and the
 * last good certificate stays in service. A Kubernetes Gateway API Gateway
 * of the same router takes its certificate from a Secret of another
 * namespace through a ReferenceGrant (kubernetes-gateway://NS/NAME).
 * Everything on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import type { TrellisProcess } from '../../helpers/trellis-process.js';
import { backendServiceEntry, startRouterMesh } from './router-harness.js';
import { curl, eventually, run } from './curl.js';

const SIMPLE = 'secure.example.test';
const MUTUAL = 'mtls.example.test';
const GATEWAY_API = 'api.example.test';

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** A CA, and certificates it signs: the servers' (by name, with a subject to tell versions apart) and a client's. */
function pki(dir: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')]);
  const leaf = (name: string, cn: string, san?: string) => {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`)]);
    writeFileSync(join(dir, `${name}.ext`), san ? `subjectAltName=DNS:${san}\n` : 'extendedKeyUsage=clientAuth\n');
    openssl(['x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '1', '-extfile', join(dir, `${name}.ext`), '-out', join(dir, `${name}.crt`)]);
  };
  leaf('simple-v1', `${SIMPLE} v1`, SIMPLE);
  leaf('simple-v2', `${SIMPLE} v2`, SIMPLE);
  leaf('mutual', MUTUAL, MUTUAL);
  leaf('gateway-api', GATEWAY_API, GATEWAY_API);
  leaf('client', 'client');
}

const b64 = (dir: string, f: string) => readFileSync(join(dir, f)).toString('base64');

function tlsSecret(dir: string, name: string, cert: string, key: string, namespace = 'istio-system'): string {
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${namespace}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(dir, cert)}\n  tls.key: ${b64(dir, key)}\n`;
}

/** A Gateway API Gateway served by the same router, its certificate the Secret "api-cert" of namespace "certs" (granted). */
function gatewayApiConfig(port: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  gatewayClassName: istio
  listeners:
  - name: https
    port: ${port}
    protocol: HTTPS
    hostname: ${GATEWAY_API}
    tls: {mode: Terminate, certificateRefs: [{name: api-cert, namespace: certs}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: istio-system}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{group: networking.istio.io, kind: Hostname, name: backend.shop.test, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: edge-certs, namespace: certs}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: istio-system}]
  to: [{group: "", kind: Secret, name: api-cert}]
`;
}

function config(p: { simple: number; mutual: number; backend: number }): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${p.simple}, name: https-simple, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: ["${SIMPLE}"]
    tls: {mode: SIMPLE, credentialName: simple-cert}
  - port: {number: ${p.mutual}, name: https-mutual, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: ["${MUTUAL}"]
    tls: {mode: MUTUAL, credentialName: mutual-cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: istio-system}
spec:
  hosts: [${SIMPLE}, ${MUTUAL}]
  gateways: [ingress]
  http: [{route: [{destination: {host: backend.shop.test, port: {number: 80}}}]}]
---
${backendServiceEntry('istio-system', p.backend)}`;
}

describe('gateway credentialName: Secrets over SDS to a router proxy', { timeout: 90_000 }, () => {
  let work: string;
  let backend: Server;
  let cp: TrellisProcess | undefined;
  let proxy: TrellisProcess | undefined;
  const ports = { simple: 0, mutual: 0, backend: 0, gatewayApi: 0 };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'trellis-gw-creds-'));
    pki(work);
    backend = createServer((req, res) => res.end(`backend ${req.headers['x-forwarded-client-cert'] ? 'with' : 'without'} xfcc`));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    ports.backend = (backend.address() as { port: number }).port;
    ports.simple = await freePort();
    ports.mutual = await freePort();
    ports.gatewayApi = await freePort();
    mkdirSync(join(work, 'config'));
    writeFileSync(join(work, 'config', 'gateway.yaml'), config(ports));
    writeFileSync(join(work, 'config', 'simple-secret.yaml'), tlsSecret(work, 'simple-cert', 'simple-v1.crt', 'simple-v1.key'));
    writeFileSync(join(work, 'config', 'mutual-secret.yaml'), `${tlsSecret(work, 'mutual-cert', 'mutual.crt', 'mutual.key')}---\napiVersion: v1\nkind: Secret\nmetadata: {name: mutual-cert-cacert, namespace: istio-system}\ndata: {ca.crt: ${b64(work, 'ca.crt')}}\n`);
    writeFileSync(join(work, 'config', 'gateway-api.yaml'), `${gatewayApiConfig(ports.gatewayApi)}---\n${tlsSecret(work, 'api-cert', 'gateway-api.crt', 'gateway-api.key', 'certs')}`);
    const labels = { istio: 'ingressgateway', 'gateway.networking.k8s.io/gateway-name': 'edge' };
    ({ cp, proxy } = await startRouterMesh(join(work, 'config'), labels, 'istio-ingressgateway-1', ['--debounce-ms', '50']));
  });

  after(async () => {
    await proxy?.stop();
    await cp?.stop();
    await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const simple = () => curl(['--cacert', join(work, 'ca.crt'), '--resolve', `${SIMPLE}:${ports.simple}:127.0.0.1`, `https://${SIMPLE}:${ports.simple}/`]);
  const subject = async () => (await run('openssl', ['s_client', '-connect', `127.0.0.1:${ports.simple}`, '-servername', SIMPLE])).stdout.match(/subject=.*CN ?= ?(.*)/)?.[1]?.trim();

  test('SIMPLE: the certificate of the Secret credentialName names, trusted through the test CA', async () => {
    const c = await eventually(simple, (x) => x.status === '200');
    assert.equal(c.status, '200', `${c.stderr}\nproxy: ${proxy!.lines.slice(-10).join('\n')}`);
    assert.equal(c.body, 'backend without xfcc', 'no client certificate, no x-forwarded-client-cert (SANITIZE_SET)');
    assert.equal(await subject(), `${SIMPLE} v1`);
  });

  test('MUTUAL: a client certificate the NAME-cacert Secret\'s CA signed gets through; none gets no handshake', async () => {
    const mutual = (extra: string[]) => curl(['--cacert', join(work, 'ca.crt'), ...extra, '--resolve', `${MUTUAL}:${ports.mutual}:127.0.0.1`, `https://${MUTUAL}:${ports.mutual}/`]);
    const ok = await eventually(() => mutual(['--cert', join(work, 'client.crt'), '--key', join(work, 'client.key')]), (x) => x.status === '200');
    assert.equal(ok.status, '200', ok.stderr);
    assert.equal(ok.body, 'backend with xfcc', 'the client certificate is forwarded as x-forwarded-client-cert');
    const none = await mutual([]);
    assert.notEqual(none.status, '200', 'no client certificate, no request');
  });

  test('Gateway API: a certificateRef to a Secret of another namespace, allowed by a ReferenceGrant, is served (kubernetes-gateway://certs/api-cert)', async () => {
    const api = () => curl(['--cacert', join(work, 'ca.crt'), '--resolve', `${GATEWAY_API}:${ports.gatewayApi}:127.0.0.1`, `https://${GATEWAY_API}:${ports.gatewayApi}/`]);
    const c = await eventually(api, (x) => x.status === '200');
    assert.equal(c.status, '200', `${c.stderr}\nproxy: ${proxy!.lines.slice(-10).join('\n')}`);
    assert.equal(c.body, 'backend without xfcc');
  });

  test('a Secret edit rotates the certificate without a restart; a broken one is NACKed and the last good stays', async () => {
    await eventually(simple, (x) => x.status === '200');
    writeFileSync(join(work, 'config', 'simple-secret.yaml'), tlsSecret(work, 'simple-cert', 'simple-v2.crt', 'simple-v2.key'));
    let seen: string | undefined;
    for (let i = 0; i < 50 && seen !== `${SIMPLE} v2`; i++) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await subject();
    }
    assert.equal(seen, `${SIMPLE} v2`);
    // Only a NACK logged from now on counts (the proxy logs on stderr).
    const from = proxy!.stderr.length;
    const nacked = () => proxy!.stderr.slice(from).some((l) => l.includes('rejecting xds update') && l.includes('SDS'));
    writeFileSync(join(work, 'config', 'simple-secret.yaml'), tlsSecret(work, 'simple-cert', 'simple-v1.crt', 'simple-v2.key'));
    for (let i = 0; i < 75 && !nacked(); i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(nacked(), `no SDS NACK; proxy:\n${proxy!.stderr.slice(from).join('\n')}`);
    assert.equal(await subject(), `${SIMPLE} v2`, 'the last good certificate is still served');
    assert.equal((await simple()).status, '200');
  });
});
