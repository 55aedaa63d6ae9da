/**
 * A Kubernetes Gateway API ingress end to end (issue 13, item 7): the real
 * control plane reads a Gateway (class istio) and an HTTPRoute from its
 * config directory and converts them as istiod does; a real `trellis proxy`
 * with a router node id and the label istiod's deployment gives the
 * Gateway's pods (gateway.networking.k8s.io/gateway-name) serves the
 * listener, and curl reaches two backends through it: weights, a header
 * match, a redirect, a prefix rewrite with a header set, a missing backend
 * (500, as the Gateway API requires) and a host no route has (404). The
 * backends are Services with EndpointSlices on 127.0.0.1; the listener's
 * port is a free one and every request goes to loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const HOST = 'www.shop.test';

function service(name: string, port: number, clusterIP: string): string {
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec: {clusterIP: ${clusterIP}, ports: [{name: http, port: 80, targetPort: ${port}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: shop, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: ${port}, protocol: TCP}]
`;
}

function config(p: { gateway: number; v1: number; v2: number }): string {
  return `${service('shop', p.v1, '10.96.50.1')}${service('shop-v2', p.v2, '10.96.50.2')}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - name: web
    hostname: "*.shop.test"
    port: ${p.gateway}
    protocol: HTTP
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [${HOST}]
  rules:
  - matches: [{path: {value: /split}}]
    backendRefs: [{name: shop, port: 80, weight: 1}, {name: shop-v2, port: 80, weight: 1}]
  - matches: [{path: {value: /items}}]
    backendRefs: [{name: shop, port: 80}]
  - matches: [{path: {value: /items}, headers: [{name: x-canary, value: "yes"}]}]
    backendRefs: [{name: shop-v2, port: 80}]
  - matches: [{path: {value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {hostname: new.shop.test, statusCode: 301, path: {type: ReplaceFullPath, replaceFullPath: /new}}}]
  - matches: [{path: {value: /api/}}]
    filters:
    - {type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2/}}}
    - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-gateway, value: edge}]}}
    backendRefs: [{name: shop, port: 80}]
  - matches: [{path: {value: /broken}}]
    backendRefs: [{name: not-there, port: 80}]
`;
}

interface Curl { code: number; status: string; headers: string; body: string; stderr: string }

function curl(args: string[]): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '5', '-D', '-', '-o', '-', ...args], { encoding: 'utf8', timeout: 8000 }, (err, stdout, stderr) => {
      const split = stdout.indexOf('\r\n\r\n');
      const headers = split < 0 ? stdout : stdout.slice(0, split);
      resolve({ code: err ? -1 : 0, status: headers.split(' ')[1] ?? '', headers, body: split < 0 ? '' : stdout.slice(split + 4), stderr });
    });
  });
}

/** Polls until `ok` holds (bounded: 75 tries, 200 ms apart): the proxy gets its config after it starts. */
async function eventually(f: () => Promise<Curl>, ok: (c: Curl) => boolean): Promise<Curl> {
  let c = await f();
  for (let i = 0; i < 75 && !ok(c); i++) {
    await new Promise((r) => setTimeout(r, 200));
    c = await f();
  }
  return c;
}

function backend(name: string): Server {
  return createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ backend: name, path: req.url, host: req.headers.host, gateway: req.headers['x-gateway'] ?? null }));
  });
}

describe('Gateway API: Gateway + HTTPRoute through a router proxy', { timeout: 120_000 }, () => {
  let work: string;
  const servers: Server[] = [];
  let cp: TrellisProcess | undefined;
  let proxy: TrellisProcess | undefined;
  let debug = '';
  const ports = { gateway: 0, v1: 0, v2: 0 };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'trellis-gwapi-'));
    for (const [name, key] of [['v1', 'v1'], ['v2', 'v2']] as const) {
      const s = backend(name);
      servers.push(s);
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      ports[key] = (s.address() as { port: number }).port;
    }
    ports.gateway = await freePort();
    await mkdir(join(work, 'config'));
    await writeFile(join(work, 'config', 'gateway-api.yaml'), config(ports));
    cp = new TrellisProcess(['controlplane', '--config-dir', join(work, 'config'), '--xds-port', '0', '--debug-port', '0']);
    const ready = jsonLine<{ xds: string; debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined, 20_000))!;
    debug = `http://${ready.debug}`;
    proxy = new TrellisProcess(
      ['proxy', '--xds-address', ready.xds, '--node-id', 'router~127.0.0.1~edge-istio-5d8f.infra~infra.svc.cluster.local', '--admin-port', '0', '--drain-seconds', '0'],
      { ISTIO_META_LABELS: JSON.stringify({ 'gateway.networking.k8s.io/gateway-name': 'edge', 'gateway.networking.k8s.io/gateway-class-name': 'istio' }) },
    );
    await proxy.waitForLine((l) => l.includes('admin listening'), 20_000);
  });

  after(async () => {
    await proxy?.stop();
    await cp?.stop();
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    if (work) await rm(work, { recursive: true, force: true });
  });

  const get = (path: string, extra: string[] = [], host = HOST) => curl(['--resolve', `${host}:${ports.gateway}:127.0.0.1`, ...extra, `http://${host}:${ports.gateway}${path}`]);
  const ready = () => eventually(() => get('/items'), (c) => c.status === '200');

  test('a path match reaches its backend; the same path with the header goes to the other (the more specific match first)', async () => {
    const c = await ready();
    assert.equal(c.status, '200', `${c.stderr}\n${c.headers}\nproxy: ${proxy!.stderr.slice(-10).join('\n')}`);
    assert.equal(JSON.parse(c.body).backend, 'v1');
    const canary = await get('/items/7', ['-H', 'x-canary: yes']);
    assert.equal(JSON.parse(canary.body).backend, 'v2');
    assert.equal(JSON.parse(canary.body).path, '/items/7');
  });

  test('weights 1:1 send requests to both backends', async () => {
    await ready();
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(JSON.parse((await get('/split')).body).backend);
    assert.deepEqual([...seen].sort(), ['v1', 'v2']);
  });

  test('RequestRedirect answers 301 with the new host and path, never the backend', async () => {
    await ready();
    const c = await get('/old/page');
    assert.equal(c.status, '301', c.headers);
    assert.match(c.headers, /^location: http:\/\/new\.shop\.test(:\d+)?\/new\r?$/im);
    assert.doesNotMatch(c.body, /backend/);
  });

  test('URLRewrite replaces the matched prefix and RequestHeaderModifier sets the header the backend sees', async () => {
    await ready();
    const c = await get('/api/list?x=1');
    assert.equal(c.status, '200', c.headers);
    assert.deepEqual(JSON.parse(c.body), { backend: 'v1', path: '/v2/list?x=1', host: `${HOST}:${ports.gateway}`, gateway: 'edge' });
  });

  test('a rule whose backend does not exist answers 500; a host no route has is 404; both reported or not reaching a backend', async () => {
    await ready();
    const broken = await get('/broken');
    assert.equal(broken.status, '500', broken.headers);
    assert.doesNotMatch(broken.body, /backend/);
    const other = await get('/items', [], 'other.shop.test');
    assert.equal(other.status, '404', other.headers);
    const problems = (await (await fetch(`${debug}/debug/config_problems`)).json()) as { code: string; file: string; line: number; reason: string }[];
    const missing = problems.find((p) => p.code === 'IST0101' && p.reason.includes('not-there'));
    assert.ok(missing, JSON.stringify(problems));
    assert.match(missing.file, /gateway-api\.yaml$/);
    // At the backendRef's own line.
    assert.equal(missing.line, config(ports).split('\n').findIndex((l) => l.includes('name: not-there')) + 1, missing.reason);
  });
});
