/**
 * The main job, end to end: `trellis up` on the bundled demo (a copy of
 * examples/demo the test may edit), as a newcomer runs it — as root with
 * network namespaces and kernel capture, and as an unprivileged user in
 * loopback mode. What the README's tour promises is checked against the
 * running mesh: the front page through the sidecars, the 90/10 split and
 * the jason route, a VirtualService edit moving traffic, STRICT refusing a
 * pod without a sidecar, the AuthorizationPolicy refusing another caller,
 * the debugging CLI's rows (proxy-status, proxy-config, describe,
 * tls-check), and nothing left behind after Ctrl-C.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcesses } from '../../../src/local/up/process-sweep.js';
import { table } from '../debug-cli/mesh.js';
import { UpRun, exists, rootLinks, rootTrellisRules, runNamespaces } from './up-run.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const APP_UID = 1000;
/** The demo's pods with a sidecar: productpage, details, reviews v1–v3, ratings, loadgen. */
const SIDECARS = 7;

function skipReason(loopback: boolean): string | false {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces; setpriv for the loopback run)';
  const tools = loopback ? 'command -v setpriv && command -v curl' : 'command -v ip && command -v iptables-restore && command -v curl';
  if (spawnSync('sh', ['-c', tools], { stdio: 'ignore' }).status !== 0) return `needs ${tools.replace(/command -v /g, '').replace(/ && /g, ', ')}`;
  if (spawnSync('python3', ['-c', '0'], { stdio: 'ignore' }).status !== 0) return 'needs python3 (the demo\'s details service)';
  return false;
}

/** A copy of examples/demo every uid can read; the apps find @grpc/grpc-js through a node_modules link, as in the repository. */
function demoCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-up-demo-'));
  cpSync(join(REPO, 'examples', 'demo'), dir, { recursive: true });
  const open = (p: string) => {
    const dir = statSync(p).isDirectory();
    chmodSync(p, dir ? 0o755 : 0o644);
    if (dir) for (const f of readdirSync(p)) open(join(p, f));
  };
  open(dir);
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A shell loop in the loadgen pod: N page views, one line per view with the reviews version that answered (or the status). */
function pageViews(n: number, headers = ''): string {
  return `for i in $(seq ${n}); do curl -sS --max-time 5 -o /dev/null ${headers} -w '%{http_code} %header{x-reviews-version}\\n' "http://$PRODUCTPAGE_SERVICE_HOST:$PRODUCTPAGE_SERVICE_PORT/"; done`;
}

function countVersions(out: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of out.trim().split('\n')) counts[l] = (counts[l] ?? 0) + 1;
  return counts;
}

/** Sets reviews' weights in the copy's traffic/reviews.yaml (the file a user edits). */
function setWeights(dir: string, v1: number, v2: number): void {
  const file = join(dir, 'traffic', 'reviews.yaml');
  const text = readFileSync(file, 'utf8');
  const edited = text.replace(/(subset: v1\n\s+weight: )\d+/, `$1${v1}`).replace(/(subset: v2\n\s+weight: )\d+/, `$1${v2}`);
  assert.notEqual(edited, text, 'the weights were found in traffic/reviews.yaml');
  writeFileSync(file, edited);
}

/** The mesh's start, shared by both modes: the run id, the all-SYNCED line, every pod Running. */
async function startDemo(up: UpRun): Promise<{ runId: string; syncedSeconds: number }> {
  const runId = (await up.waitFor(/^✓ run ([0-9a-f]{6}) /, 30_000))[1]!;
  const synced = await up.waitFor(/^✓ all proxies SYNCED ([\d.]+) s after start/, 90_000);
  await up.allReady(60_000);
  return { runId, syncedSeconds: Number(synced[1]) };
}

/** Runs in the loadgen pod (it has a sidecar); retried while the mesh is still sending endpoints out. */
async function fromLoadgen(up: UpRun, script: string, until: (out: string) => boolean, tries = 20): Promise<string> {
  let out = '';
  for (let i = 0; i < tries; i++) {
    const r = up.cli(['exec', '-n', 'demo', 'deploy/loadgen', '--', 'sh', '-c', script], 60_000);
    out = r.stdout;
    if (r.code === 0 && until(out)) return out;
    await sleep(500);
  }
  return out;
}

const netnsSkip = skipReason(false);

describe('trellis up on the demo (network namespaces, real capture)', { skip: netnsSkip, timeout: 300_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runId: string;
  const linksBefore = netnsSkip ? new Set<string>() : rootLinks();
  const rulesBefore = netnsSkip ? [] : rootTrellisRules();

  before(async () => {
    dir = demoCopy();
    up = new UpRun(dir);
    ({ runId } = await startDemo(up));
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the front page answers through the sidecars with details and reviews', async () => {
    const script = `curl -sS --max-time 5 -D - "http://$PRODUCTPAGE_SERVICE_HOST:$PRODUCTPAGE_SERVICE_PORT/"`;
    const out = await fromLoadgen(up, script, (o) => /^HTTP\/1\.1 200/.test(o) && /x-reviews-version: v[12]/i.test(o));
    assert.match(out, /^HTTP\/1\.1 200/, out);
    assert.match(out, /x-reviews-version: v[12]/i, 'reviews answered (v1 or v2: not jason)');
    // The caller's sidecar saw the call: the access log of an outbound call through the mesh.
    const logs = up.cli(['logs', '-n', 'demo', 'deploy/loadgen', '-c', 'proxy']);
    assert.match(logs.stdout, /"GET \/ HTTP\/1\.1" 200 .*outbound\|9080\|\|productpage\.demo\.svc\.cluster\.local/);
  });

  test('reviews splits 90/10 between v1 and v2; end-user jason always gets v3', async () => {
    const out = await fromLoadgen(up, pageViews(100), (o) => !/unavailable|^[^2]/m.test(o));
    const counts = countVersions(out);
    const v1 = counts['200 v1'] ?? 0;
    const v2 = counts['200 v2'] ?? 0;
    assert.equal(v1 + v2, 100, `every view answered by v1 or v2: ${JSON.stringify(counts)}`);
    // Binomial(100, 0.9): below 70 or at 100 is far outside chance (p < 1e-4).
    assert.ok(v1 >= 70 && v1 < 100, `v1 ${v1}, v2 ${v2}`);
    const jason = countVersions(await fromLoadgen(up, pageViews(10, "-H 'end-user: jason'"), () => true));
    assert.deepEqual(jason, { '200 v3': 10 });
  });

  test('an edit of the VirtualService moves the traffic (v2 100%)', async () => {
    setWeights(dir, 0, 100);
    const out = await fromLoadgen(up, pageViews(20), (o) => countVersions(o)['200 v2'] === 20, 40);
    assert.deepEqual(countVersions(out), { '200 v2': 20 });
    setWeights(dir, 90, 10);
  });

  test('STRICT: a pod without a sidecar is refused; the AuthorizationPolicy refuses loadgen calling reviews itself', async () => {
    const plain = up.cli(['exec', '-n', 'legacy', 'deploy/plain-client', '--', 'curl', '-sS', '--max-time', '5', 'http://productpage.demo.svc.cluster.local:9080/health']);
    assert.notEqual(plain.code, 0, `plaintext into STRICT must fail: ${plain.stdout}`);
    // curl: 52 empty reply or 56 reset — the connection reached the sidecar and was closed, not a DNS or route failure.
    assert.ok([52, 56].includes(plain.code), `curl exit ${plain.code}: ${plain.stderr}`);
    const denied = await fromLoadgen(up, `curl -sS --max-time 5 -w ' %{http_code}' "http://$REVIEWS_SERVICE_HOST:$REVIEWS_SERVICE_PORT/reviews/0"`, (o) => / 403$/.test(o));
    assert.equal(denied, 'RBAC: access denied 403');
  });

  test('proxy-status: every sidecar, SYNCED on CDS, LDS, EDS and RDS', async () => {
    let rows: Record<string, string>[] = [];
    for (let i = 0; i < 40; i++) {
      const r = up.cli(['proxy-status']);
      assert.equal(r.code, 0, r.stderr);
      rows = table(r.stdout, ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'CONTROL PLANE', 'VERSION']);
      if (rows.length === SIDECARS && rows.every((x) => ['CDS', 'LDS', 'EDS', 'RDS'].every((c) => /^SYNCED\b/.test(x[c]!)))) break;
      await sleep(250);
    }
    assert.equal(rows.length, SIDECARS, JSON.stringify(rows));
    // istioctl's words: "SYNCED (57s)", the time since the last ACK.
    for (const row of rows) for (const c of ['CDS', 'LDS', 'EDS', 'RDS']) assert.match(row[c]!, /^SYNCED( \(\S+\))?$/, `${row['NAME']} ${c}`);
    assert.ok(rows.some((x) => /^productpage-v1-\S+\.demo$/.test(x['NAME']!)), JSON.stringify(rows));
    assert.ok(!rows.some((x) => x['NAME']!.endsWith('.legacy')), 'legacy has no sidecars');
  });

  test('proxy-config clusters and secret of productpage; describe reviews-v1; tls-check productpage → reviews', () => {
    const clusters = up.cli(['proxy-config', 'clusters', 'deploy/productpage-v1', '-n', 'demo', '--fqdn', 'reviews.demo.svc.cluster.local']);
    assert.equal(clusters.code, 0, clusters.stderr);
    const subsets = table(clusters.stdout, ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']).map((x) => `${x['PORT']} ${x['SUBSET']} ${x['DIRECTION']} ${x['TYPE']} ${x['DESTINATION RULE']}`);
    for (const s of ['v1', 'v2', 'v3']) assert.ok(subsets.includes(`9080 ${s} outbound EDS reviews.demo`), subsets.join('\n'));

    const secret = up.cli(['proxy-config', 'secret', 'deploy/productpage-v1', '-n', 'demo']);
    assert.equal(secret.code, 0, secret.stderr);
    const secrets = table(secret.stdout, ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE']);
    assert.deepEqual(secrets.map((x) => `${x['RESOURCE NAME']} ${x['STATUS']} ${x['VALID CERT']}`).sort(), ['ROOTCA ACTIVE true', 'default ACTIVE true']);

    const describeOut = up.cli(['describe', 'pod', 'deploy/reviews-v1', '-n', 'demo']);
    assert.equal(describeOut.code, 0, describeOut.stderr);
    for (const line of ['Service: reviews', '   Matching subsets: v1', '   Workload mTLS mode: STRICT', '   reviews.demo (ALLOW)']) {
      assert.ok(describeOut.stdout.split('\n').includes(line), `${JSON.stringify(line)} in:\n${describeOut.stdout}`);
    }
    assert.match(describeOut.stdout, /Route to host "reviews" subset "v1" with weight 90%/);

    const tls = up.cli(['tls-check', 'deploy/productpage-v1', 'reviews', '-n', 'demo']);
    assert.equal(tls.code, 0, tls.stdout + tls.stderr);
    const rows = table(tls.stdout, ['HOST:PORT', 'STATUS', 'SERVER', 'CLIENT', 'AUTHN POLICY', 'DESTINATION RULE']);
    assert.deepEqual(rows.map((x) => `${x['HOST:PORT']} ${x['STATUS']} ${x['SERVER']}`), ['reviews.demo.svc.cluster.local:9080 OK STRICT']);
  });

  test('Ctrl-C tears everything down: no namespace, veth, rule or process is left', async () => {
    assert.ok(runNamespaces(runId).length >= SIDECARS);
    const r = await up.stop('SIGINT', 60_000);
    assert.equal(r.code, 130, up.lines.slice(-20).join('\n'));
    assert.deepEqual(runNamespaces(runId), []);
    assert.deepEqual(runProcesses(runId), []);
    assert.deepEqual([...rootLinks()].filter((l) => !linksBefore.has(l)), []);
    assert.deepEqual(rootTrellisRules(), rulesBefore);
    assert.ok(!exists(up.stateFile));
  });
});

const loopbackSkip = skipReason(true);

describe('trellis up on the demo in loopback mode, as an unprivileged user', { skip: loopbackSkip, timeout: 300_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runId: string;

  before(async () => {
    dir = demoCopy();
    up = new UpRun(dir, { uid: APP_UID });
    ({ runId } = await startDemo(up));
    assert.ok(up.lines.some((l) => /loopback mode: .*NO kernel capture/.test(l)), 'the mode is said plainly');
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the front page through the sidecars; jason gets v3', async () => {
    const out = await fromLoadgen(up, pageViews(5, "-H 'end-user: jason'"), (o) => countVersions(o)['200 v3'] === 5);
    assert.deepEqual(countVersions(out), { '200 v3': 5 });
  });

  test('STRICT: a pod without a sidecar calling productpage\'s address is refused', () => {
    const pods = up.cli(['get', 'pods', '-n', 'demo', '-o', 'wide']);
    const row = pods.stdout.split('\n').find((l) => l.startsWith('productpage-v1-'));
    const ip = row?.split(/\s{3,}/)[5];
    assert.match(ip ?? '', /^127\.\d+\.\d+\.\d+$/, pods.stdout);
    const plain = up.cli(['exec', '-n', 'legacy', 'deploy/plain-client', '--', 'curl', '-sS', '--max-time', '5', `http://${ip}:9080/health`]);
    assert.ok([52, 56].includes(plain.code), `curl exit ${plain.code}: ${plain.stdout}${plain.stderr}`);
  });

  test('Ctrl-C leaves no process behind', async () => {
    const r = await up.stop('SIGINT', 60_000);
    assert.equal(r.code, 130, up.lines.slice(-20).join('\n'));
    assert.deepEqual(runProcesses(runId), []);
    assert.ok(!exists(up.stateFile));
  });
});
