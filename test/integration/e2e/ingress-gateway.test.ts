/**
 * An ingress gateway end to end (issue 13, item 7): the real control plane
 * reads an Istio Gateway and a VirtualService (bookinfo-gateway.yaml's
 * shape) from its config directory, a real `trellis proxy` with a router
 * node id and the ingress gateway's labels binds the servers' ports on
 * 127.0.0.1 (the servers' `bind`), and curl and openssl reach a backend
 * through it: routing by path, a Host no server lists (404 NR), the
 * httpsRedirect 301, and HTTPS SIMPLE with a test certificate matched by SNI.
 * Everything stays on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import type { TrellisProcess } from '../../helpers/trellis-process.js';
import { backendServiceEntry, startRouterMesh } from './router-harness.js';
import { curl, eventually, run } from './curl.js';

const SHOP = 'shop.example.test';
const SECURE = 'secure.example.test';

function gatewayConfig(p: { http: number; redirect: number; https: number; backend: number }, dir: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${p.http}, name: http, protocol: HTTP}
    bind: 127.0.0.1
    hosts: ["shop/${SHOP}"]
  - port: {number: ${p.redirect}, name: http-redirect, protocol: HTTP}
    bind: 127.0.0.1
    hosts: ["${SECURE}"]
    tls: {httpsRedirect: true}
  - port: {number: ${p.https}, name: https, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: ["${SECURE}"]
    tls: {mode: SIMPLE, serverCertificate: ${join(dir, 'tls.crt')}, privateKey: ${join(dir, 'tls.key')}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [${SHOP}, ${SECURE}]
  gateways: [istio-system/ingress]
  http:
  - match:
    - uri: {exact: /productpage}
    - uri: {prefix: /static}
    route:
    - destination: {host: backend.shop.test, port: {number: 80}}
---
${backendServiceEntry('shop', p.backend)}`;
}

describe('ingress gateway: Istio Gateway + VirtualService through a router proxy', { timeout: 90_000 }, () => {
  let work: string;
  let backend: Server;
  let cp: TrellisProcess | undefined;
  let proxy: TrellisProcess | undefined;
  const ports = { http: 0, redirect: 0, https: 0, backend: 0 };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'trellis-ingress-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${SECURE}`, '-addext', `subjectAltName=DNS:${SECURE}`, '-keyout', join(work, 'tls.key'), '-out', join(work, 'tls.crt')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    backend = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ backend: 'shop', path: req.url, host: req.headers.host }));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    ports.backend = (backend.address() as { port: number }).port;
    ports.http = await freePort();
    ports.redirect = await freePort();
    ports.https = await freePort();
    await mkdir(join(work, 'config'));
    await writeFile(join(work, 'config', 'ingress.yaml'), gatewayConfig(ports, work));
    const mesh = await startRouterMesh(join(work, 'config'), { istio: 'ingressgateway', app: 'istio-ingressgateway' });
    ({ cp, proxy } = mesh);
  });

  after(async () => {
    await proxy?.stop();
    await cp?.stop();
    await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
    if (work) await rm(work, { recursive: true, force: true });
  });

  const shop = (path: string, host = SHOP) => curl(['--resolve', `${host}:${ports.http}:127.0.0.1`, `http://${host}:${ports.http}${path}`]);

  test('a request for a host the server lists reaches the backend by the VirtualService\'s path match', async () => {
    const c = await eventually(() => shop('/productpage'), (x) => x.status === '200');
    assert.equal(c.status, '200', `${c.stderr}\n${c.headers}\nproxy: ${proxy!.stderr.slice(-10).join('\n')}`);
    assert.deepEqual(JSON.parse(c.body), { backend: 'shop', path: '/productpage', host: `${SHOP}:${ports.http}` });
    assert.equal(JSON.parse((await shop('/static/app.css')).body).path, '/static/app.css');
  });

  test('a path no route matches, and a Host no server lists, are 404 from the gateway (NR), never the backend', async () => {
    await eventually(() => shop('/productpage'), (x) => x.status === '200');
    const path = await shop('/admin');
    assert.equal(path.status, '404');
    assert.doesNotMatch(path.body, /backend/);
    const host = await shop('/productpage', 'evil.example.test');
    assert.equal(host.status, '404', host.headers);
    assert.doesNotMatch(host.body, /backend/);
  });

  test('httpsRedirect: plain HTTP for the secure host is answered 301 to https, path and query kept', async () => {
    const c = await eventually(() => curl(['--resolve', `${SECURE}:${ports.redirect}:127.0.0.1`, `http://${SECURE}:${ports.redirect}/productpage?u=1`]), (x) => x.status === '301');
    assert.equal(c.status, '301', `${c.stderr}\n${c.headers}`);
    assert.match(c.headers, new RegExp(`^location: https://${SECURE.replaceAll('.', '\\.')}:${ports.redirect}/productpage\\?u=1\\r?$`, 'im'));
    assert.doesNotMatch(c.body, /backend/);
  });

  test('HTTPS SIMPLE: curl trusting only the test certificate gets the backend; openssl sees the certificate for the SNI; another name gets no handshake', async () => {
    const https = () => curl(['--cacert', join(work, 'tls.crt'), '--resolve', `${SECURE}:${ports.https}:127.0.0.1`, `https://${SECURE}:${ports.https}/productpage`]);
    const c = await eventually(https, (x) => x.status === '200');
    assert.equal(c.status, '200', `${c.stderr}\n${c.headers}`);
    assert.equal(JSON.parse(c.body).path, '/productpage');
    const s = await run('openssl', ['s_client', '-connect', `127.0.0.1:${ports.https}`, '-servername', SECURE, '-verify_return_error', '-CAfile', join(work, 'tls.crt')]);
    assert.match(s.stdout, new RegExp(`subject=.*CN ?= ?${SECURE.replaceAll('.', '\\.')}`));
    assert.match(s.stdout, /Verify return code: 0 \(ok\)/);
    const other = await run('openssl', ['s_client', '-connect', `127.0.0.1:${ports.https}`, '-servername', 'other.example.test']);
    assert.doesNotMatch(other.stdout, /subject=/, 'no filter chain serves another SNI');
  });
});
