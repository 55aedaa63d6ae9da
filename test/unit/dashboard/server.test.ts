/**
 * The dashboard's HTTP server in-process with a fixed model and a page
 * folder of its own: 127.0.0.1 only, the page under a CSP that allows
 * nothing from elsewhere, the API, and every malformed or foreign request
 * answered (400, 403, 404, 405) without harm.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDashboardServer, type DashboardServer } from '../../../src/dashboard/server.js';
import { staticLocator } from '../../../src/debug/locator.js';
import { syntheticModel } from '../../integration/dashboard/synthetic-mesh.js';

let server: DashboardServer;
let dir: string;
let asked = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-dashboard-page-'));
  for (const f of ['index.html', 'app.js', 'app.css']) writeFileSync(join(dir, f), `/* ${f} */`);
  server = await startDashboardServer({ port: 0, staticDir: dir, model: () => syntheticModel(3), touch: () => asked++, mesh: staticLocator('test', undefined, []) });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request (any method, path and Host), so malformed ones reach the server as sent. */
function send(method: string, path: string, host = `127.0.0.1:${server.port}`): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serves on 127.0.0.1 only: the page under a self-only CSP, and the model', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await send('GET', '/');
  assert.equal(page.status, 200);
  assert.equal(page.body, '/* index.html */');
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  const model = await send('GET', '/api/model');
  assert.equal(model.status, 200);
  assert.equal((JSON.parse(model.body) as { nodes: unknown[] }).nodes.length, 4);
  assert.ok(asked > 0, 'an API request keeps the collector polling');
});

test('explain: a pod the mesh does not have is 502 with the command and the reason; bad parameters are 400', async () => {
  const ok = await send('GET', `/api/explain?from=client-1.shop&url=${encodeURIComponent('http://web.shop.svc.cluster.local:8000/')}`);
  assert.equal(ok.status, 502);
  const body = JSON.parse(ok.body) as { command: string; error: string };
  assert.equal(body.command, 'trellis explain --from client-1.shop http://web.shop.svc.cluster.local:8000/');
  assert.match(body.error, /client-1/);
  assert.equal((await send('GET', '/api/explain?from=$(rm)&url=http://a/')).status, 400);
  assert.equal((await send('GET', '/api/explain?from=a.b&url=file:///etc/passwd')).status, 400);
});

test('malformed, foreign and unknown requests: 400, 403, 405, 404 — and the server still answers', async () => {
  assert.equal((await send('GET', '//[')).status, 400);
  assert.equal((await send('GET', '/api/model', 'evil.example:80')).status, 403);
  assert.equal((await send('POST', '/api/model')).status, 405);
  assert.equal((await send('GET', '/../../etc/passwd')).status, 404);
  assert.equal((await send('GET', '/api/model')).status, 200);
});
