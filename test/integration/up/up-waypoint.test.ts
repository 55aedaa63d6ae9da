/**
 * Traffic through a waypoint on a real `trellis up` (as root, network
 * namespaces; the real node proxy and the real waypoint proxy): the fixture
 * (test/fixtures/up-waypoint) has an ambient namespace whose services use
 * the waypoint Gateway `wp`, and curl runs in an ambient client pod.
 * Checked, each against what would happen without the waypoint: the
 * VirtualService (x-version: v1 → v1, the rest → v2; the node proxy alone
 * would balance between both), the AuthorizationPolicy attached to the
 * waypoint (GET /admin → 403, / → 200; the node proxy alone does no L7),
 * and a Service naming a waypoint that does not exist refused — no 200
 * straight from its pods — with the reason in the node proxy's log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { skipReason } from '../e2e/two-pod-mesh.js';
import { FIXTURES, UpRun, fixtureCopy } from './up-run.js';

const skip = skipReason();

describe('trellis up: traffic through a waypoint', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runId: string;

  /** curl in the ambient client pod: the status code and the body. */
  async function curl(url: string, ...args: string[]): Promise<{ code: number; status: string; body: string }> {
    const r = await up.cliAsync(['exec', '-n', 'shop', 'client', '--', 'curl', '-sS', '--max-time', '3', '-o', '/dev/stdout', '-w', '\n%{http_code}', ...args, url], 10_000);
    const lines = r.stdout.split('\n');
    return { code: r.code, status: lines.pop() ?? '', body: `${lines.join('\n')}${r.stderr}` };
  }

  before(async () => {
    dir = fixtureCopy('up-waypoint');
    copyFileSync(join(FIXTURES, 'up-mesh', 'app.mjs'), join(dir, 'app.mjs'));
    up = new UpRun(dir);
    runId = (await up.waitFor(/^✓ run ([0-9a-f]{6}) /, 30_000))[1]!;
    await up.waitFor(/^✓ pods: 4 started \(1 with sidecars, 3 ambient\)/, 60_000);
    await up.allReady();
    // The waypoint's routes and the node proxy's waypoint address arrive over xDS after the pods are up: wait (bounded) for the first answer through it.
    const deadline = Date.now() + 20_000;
    let last = await curl('http://backend.shop:9080/');
    for (let i = 0; i < 40 && Date.now() < deadline && !(last.status === '200' && last.body.startsWith('backend-v2')); i++) {
      await new Promise((r) => setTimeout(r, 250));
      last = await curl('http://backend.shop:9080/');
    }
    assert.equal(`${last.status} ${last.body.slice(0, 10)}`, '200 backend-v2', `no answer through the waypoint: ${JSON.stringify(last)}`);
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the VirtualService routes on the waypoint: every plain request to v2, x-version: v1 to v1', async () => {
    const plain = await Promise.all(Array.from({ length: 6 }, () => curl('http://backend.shop:9080/')));
    assert.deepEqual(plain.map((r) => `${r.status} ${r.body.slice(0, 10)}`), Array(6).fill('200 backend-v2'));
    const v1 = await Promise.all(Array.from({ length: 3 }, () => curl('http://backend.shop:9080/', '-H', 'x-version: v1')));
    assert.deepEqual(v1.map((r) => `${r.status} ${r.body.slice(0, 10)}`), Array(3).fill('200 backend-v1'));
  });

  test('the AuthorizationPolicy attached to the waypoint denies GET /admin with 403; other paths and methods pass', async () => {
    const [admin, sub, root, post] = await Promise.all([
      curl('http://backend.shop:9080/admin'),
      curl('http://backend.shop:9080/admin/users'),
      curl('http://backend.shop:9080/shop'),
      curl('http://backend.shop:9080/admin', '-X', 'POST'),
    ]);
    assert.equal(admin.status, '403', JSON.stringify(admin));
    assert.equal(sub.status, '403', JSON.stringify(sub));
    assert.equal(root.status, '200', JSON.stringify(root));
    assert.equal(post.status, '200', JSON.stringify(post));
  });

  test('a Service naming a missing waypoint fails closed: refused, never answered by its pods, the reason logged', async () => {
    const r = await curl('http://lonely.shop:9080/');
    assert.notEqual(r.code, 0, `curl succeeded: ${JSON.stringify(r)}`);
    assert.doesNotMatch(r.body, /backend-v/);
    assert.equal(r.status, '000', JSON.stringify(r));
    const log = readFileSync(`/run/trellis/up-${runId}/ztunnel.log`, 'utf8');
    assert.match(log, /waypoint shop\/missing has no ready endpoint/);
  });
});
