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

  /**
   * One curl in the ambient client pod for several requests (`--next` between them: one `trellis exec`, whose
   * start is what costs here): each request's status and body, and curl's exit code (its last transfer's).
   */
  async function curl(...requests: string[][]): Promise<{ code: number; answers: string[]; stderr: string }> {
    const argv = requests.flatMap((r, i) => [...(i ? ['--next'] : []), '-sS', '--max-time', '3', '-w', '|%{http_code}\\n', ...r]);
    const r = await up.cliAsync(['exec', '-n', 'shop', 'client', '--', 'curl', ...argv], 15_000);
    // Each answer is BODY|STATUS; the apps' bodies end without a newline, Envoy's local replies too.
    const answers = r.stdout.split('\n').filter(Boolean).map((l) => {
      const bar = l.lastIndexOf('|');
      return `${l.slice(bar + 1)} ${l.slice(0, bar).slice(0, 10)}`;
    });
    return { code: r.code, answers, stderr: r.stderr };
  }
  const times = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

  before(async () => {
    dir = fixtureCopy('up-waypoint');
    copyFileSync(join(FIXTURES, 'up-mesh', 'app.mjs'), join(dir, 'app.mjs'));
    up = new UpRun(dir);
    runId = (await up.waitFor(/^✓ run ([0-9a-f]{6}) /, 30_000))[1]!;
    await up.waitFor(/^✓ pods: 4 started \(1 with sidecars, 3 ambient\)/, 60_000);
    // The apps, the waypoint's config and the node proxy's view of the waypoint come after the pods start: wait (bounded) for the first answer through it.
    const deadline = Date.now() + 30_000;
    let last = await curl(['http://backend.shop:9080/']);
    for (let i = 0; i < 60 && Date.now() < deadline && last.answers[0] !== '200 backend-v2'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      last = await curl(['http://backend.shop:9080/']);
    }
    assert.equal(last.answers[0], '200 backend-v2', `no answer through the waypoint: ${JSON.stringify(last)}`);
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the VirtualService routes on the waypoint: every plain request to v2, x-version: v1 to v1', async () => {
    const plain = ['http://backend.shop:9080/'];
    const v1 = ['-H', 'x-version: v1', 'http://backend.shop:9080/'];
    const r = await curl(...times(6, plain), ...times(3, v1));
    assert.deepEqual(r.answers, [...times(6, '200 backend-v2'), ...times(3, '200 backend-v1')], r.stderr);
  });

  test('the AuthorizationPolicy attached to the waypoint denies GET /admin with 403; other paths and methods pass', async () => {
    const r = await curl(['http://backend.shop:9080/admin'], ['http://backend.shop:9080/admin/users'], ['http://backend.shop:9080/shop'], ['-X', 'POST', 'http://backend.shop:9080/admin']);
    assert.deepEqual(r.answers.map((a) => a.slice(0, 3)), ['403', '403', '200', '200'], `${r.answers.join(' | ')} ${r.stderr}`);
  });

  test('a Service naming a missing waypoint fails closed: refused, never answered by its pods, the reason logged', async () => {
    const r = await curl(['http://lonely.shop:9080/']);
    assert.notEqual(r.code, 0, `curl succeeded: ${JSON.stringify(r)}`);
    assert.deepEqual(r.answers, ['000 '], JSON.stringify(r));
    assert.match(r.stderr, /Connection reset|Connection refused|Empty reply/);
    const log = readFileSync(`/run/trellis/up-${runId}/ztunnel.log`, 'utf8');
    assert.match(log, /waypoint shop\/missing has no ready endpoint/);
  });
});
