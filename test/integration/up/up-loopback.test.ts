/**
 * `trellis up` without root: loopback mode (127.x addresses, no network
 * namespaces, no kernel capture), the up process and every command run as
 * uid 1000. The same fixture as the netns test must serve: the front page
 * through both sidecars (reached by the environment's SERVICE_HOST/PORT,
 * which name the caller's own view of the Service), the pod without a
 * sidecar through the userspace service proxy, and nothing left after
 * Ctrl-C.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { runProcesses } from '../../../src/local/up/process-sweep.js';
import { CLAIM_DIR } from '../../../src/local/up/loopback/claims.js';
import { UpRun, exists, fixtureCopy } from './up-run.js';

const APP_UID = 1000;

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux (/proc, setpriv)';
  if (process.getuid?.() !== 0) return 'runs trellis up as uid 1000 through setpriv, which needs root';
  if (spawnSync('sh', ['-c', 'command -v setpriv && command -v curl'], { stdio: 'ignore' }).status !== 0) return 'needs setpriv and curl';
  // The built CLI must be readable by the unprivileged user.
  if (spawnSync('setpriv', [`--reuid=${APP_UID}`, `--regid=${APP_UID}`, '--clear-groups', process.execPath, '-e', '0'], { stdio: 'ignore' }).status !== 0) return `uid ${APP_UID} cannot run node`;
  return false;
}

const skip = skipReason();

describe('trellis up in loopback mode, as an unprivileged user', { skip, timeout: 180_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runId: string;
  let octet: string;

  before(async () => {
    dir = fixtureCopy('up-mesh');
    up = new UpRun(dir, { uid: APP_UID });
    const m = await up.waitFor(/^✓ run ([0-9a-f]{6}) \(files in (\S+)\): loopback mode: pods on 127\.(\d+)\.0\.0\/16, no network namespaces and NO kernel capture/, 30_000);
    runId = m[1]!;
    octet = m[3]!;
    assert.match(m.input ?? '', /\[not root/);
    await up.waitFor(/^✓ all proxies SYNCED/, 60_000);
    await up.allReady();
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the status says plainly that nothing is captured', async () => {
    await up.waitFor(/^trellis up .* · loopback mode \(NO kernel capture: /, 10_000);
  });

  test('get pods: the same pods, on 127.x addresses', () => {
    const r = up.cli(['get', 'pods', '-A', '-o', 'wide']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s{3,}/));
    assert.equal(rows.length, 6);
    for (const row of rows) {
      assert.equal(row[3], 'Running', row.join(' '));
      assert.match(row[6]!, new RegExp(`^127\\.${octet}\\.0\\.\\d+$`));
    }
    assert.equal(rows.find((x) => x[1]!.startsWith('front-'))![2], '2/2');
    assert.equal(rows.find((x) => x[1]!.startsWith('plain-'))![2], '1/1');
  });

  test('the front service answers through both sidecars, by the addresses the environment names', async () => {
    const call = 'curl -sS --max-time 5 http://$FRONT_SERVICE_HOST:$FRONT_SERVICE_PORT/';
    // Ready pods reach the sidecars' endpoints a push later (pods file → control plane → EDS): bounded retries.
    const exec = () => up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'sh', '-c', `${call}; echo; echo $FRONT_SERVICE_HOST $FRONT_SERVICE_PORT`]);
    let r = exec();
    for (let i = 0; i < 20 && /^no healthy upstream/.test(r.stdout); i++) {
      await new Promise((res) => setTimeout(res, 250));
      r = exec();
    }
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const body = lines[0] ?? '';
    const [host = '', port = ''] = (lines[1] ?? '').split(' ');
    assert.match(body, /^front\(front-\S+\) -> backend-v1\(backend-v1-\S+ in shop, sa backend\)$/);
    // Port 80 is below what an unprivileged user may bind: the view moved it up by 10000.
    assert.equal(port, '10080');
    assert.match(host, /^127\.\d+\.\d+\.\d+$/);
    assert.notEqual(host.split('.')[1], octet, 'a view of its own, not the pods\' range');
    const front = up.cli(['logs', '-n', 'shop', 'deploy/front', '-c', 'proxy']);
    assert.match(front.stdout, /"GET \/ HTTP\/1\.1" 200 .* inbound\|8080\|\| /);
    const tester = up.cli(['logs', '-n', 'shop', 'deploy/tester', '-c', 'proxy']);
    assert.match(tester.stdout, /"GET \/ HTTP\/1\.1" 200 .* outbound\|80\|\|front\.shop\.svc\.cluster\.local /);
    // Without a sidecar the userspace service proxy answers at the pod's view.
    const plain = up.cli(['exec', 'deploy/plain', '--', 'sh', '-c', call]);
    assert.match(plain.stdout, /^front\(front-/, plain.stderr);
  });

  test('trellis tap POD streams the requests through that pod\'s proxy', async (t) => {
    const tap = up.spawnCli(['tap', '-n', 'shop', 'deploy/front', '-o', 'wide']);
    t.after(() => void tap.kill('SIGKILL'));
    const lines: string[] = [];
    createInterface({ input: tap.stdout! }).on('line', (l) => lines.push(l));
    const rsp = () => lines.find((l) => l.startsWith('rsp ') && l.includes(' proxy=in '));
    // Loopback mode: the front proxy's admin API is reachable from here; the tap is subscribed once it counts a tapper.
    const state = JSON.parse(readFileSync(up.stateFile, 'utf8')) as { pods: Array<{ name: string; namespace: string; admin?: string }> };
    const admin = state.pods.find((p) => p.namespace === 'shop' && p.name.startsWith('front-'))!.admin!;
    const tappers = async () => ((await (await fetch(`http://${admin}/stats?format=json`)).json()) as { stats: Array<{ name: string; value: number }> }).stats.find((s) => s.name === 'tap.tappers_active')?.value;
    for (let i = 0; i < 100 && (await tappers()) !== 1; i++) await new Promise((res) => setTimeout(res, 50));
    up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'sh', '-c', 'curl -sS --max-time 5 http://$FRONT_SERVICE_HOST:$FRONT_SERVICE_PORT/ >/dev/null']);
    for (let i = 0; i < 40 && !rsp(); i++) await new Promise((res) => setTimeout(res, 50));
    assert.match(rsp() ?? `none; tap printed: ${lines.join('\n')}`, /^rsp id=0:\d+ proxy=in  src=127\.\S+ dst=127\.\S+ tls=\S* :status=200 latency=\d+µs .*dst_cluster=inbound\|8080\|\| /);
    assert.ok(lines.some((l) => /^req id=0:\d+ proxy=in .* :method=GET .* :path=\/ /.test(l)), lines.join('\n'));
    tap.kill('SIGTERM');
    const [code] = await once(tap, 'exit');
    assert.equal(code, 0);
  });

  test('Ctrl-C leaves no process, claim or file behind', async () => {
    assert.ok(runProcesses(runId).length >= 10);
    const { code } = await up.stop('SIGINT');
    assert.equal(code, 130);
    assert.match(up.lines.at(-1)!, /^✓ torn down in /);
    assert.deepEqual(runProcesses(runId), []);
    assert.ok(!exists(up.stateFile));
    assert.ok(!exists(`/tmp/trellis-${APP_UID}/up-${runId}`));
    const claims = exists(CLAIM_DIR) ? readdirSync(CLAIM_DIR).filter((f) => readFileSync(`${CLAIM_DIR}/${f}`, 'utf8').includes(runId)) : [];
    assert.deepEqual(claims, [], 'every 127.N/16 the run claimed is released');
  });
});
