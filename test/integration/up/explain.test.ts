/**
 * `trellis explain` against real traffic (issue 14): one `trellis up` mesh
 * (test/fixtures/explain-mesh, network namespaces and real capture), and for
 * each scenario the prediction of `explain -o json` is compared with what the
 * proxies log when curl in the tester pod sends the same request (same
 * x-request-id, so the same weighted pick): status, response flags,
 * response code details and upstream cluster, on the client's sidecar and,
 * when the request reaches it, the destination's. Needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { explainRequest } from '../../../src/debug/explain/explain.js';
import { locateMesh } from '../../../src/debug/locate-mesh.js';
import { readStateFile, type MeshState } from '../../../src/local/state-file.js';
import { skipReason } from '../e2e/two-pod-mesh.js';
import { trellisBin } from '../../helpers/trellis-process.js';
import { FIXTURES, UpRun, fixtureCopy } from './up-run.js';

interface Outcome { status: number; responseFlags: string; responseCodeDetails: string; upstreamCluster: string; fromApp?: boolean }
interface Explanation {
  request: { requestId: string };
  to?: string;
  listener?: string;
  routeConfiguration?: string;
  cluster?: string;
  steps: { kind: string; summary: string; source?: string }[];
  expected: { client: Outcome; server?: Outcome };
}

interface Scenario {
  name: string;
  url: string;
  headers?: string[];
  seed?: number;
  /** What the prediction must say, so a scenario cannot pass by predicting the same wrong thing the proxy did not do. */
  want: { status?: number; flags: string; cluster?: string; source?: RegExp };
}

const BACKEND = 'http://backend.shop:9080';
const V1 = 'outbound|9080|v1|backend.shop.svc.cluster.local';
const V2 = 'outbound|9080|v2|backend.shop.svc.cluster.local';
const SCENARIOS: Scenario[] = [
  { name: 'weights, seed 1', url: `${BACKEND}/`, seed: 1, want: { flags: '-', cluster: V1, source: /^VirtualService shop\/backend http\[3\]\.route\[0\]$/ } },
  { name: 'weights, seed 4', url: `${BACKEND}/`, seed: 4, want: { flags: '-', cluster: V2, source: /^VirtualService shop\/backend http\[3\]\.route\[1\]$/ } },
  { name: 'header match', url: `${BACKEND}/`, headers: ['x-variant: v2'], want: { flags: '-', cluster: V2, source: /http\[0\]\.match\[0\]/ } },
  { name: 'missing subset', url: `${BACKEND}/missing`, want: { status: 503, flags: 'NC', cluster: 'outbound|9080|v3|backend.shop.svc.cluster.local' } },
  { name: 'fault abort', url: `${BACKEND}/fault`, want: { status: 418, flags: 'FI' } },
  { name: 'authorization deny', url: `${BACKEND}/admin`, seed: 5, want: { status: 403, flags: '-', cluster: V1, source: /^AuthorizationPolicy shop\/deny-admin rules\[0\]$/ } },
  { name: 'plaintext client, STRICT server', url: 'http://backend-plain.shop:9080/plain', want: { status: 503, flags: 'UR', cluster: 'outbound|9080||backend-plain.shop.svc.cluster.local', source: /^PeerAuthentication shop\/strict mtls\.mode$/ } },
  { name: 'no route', url: 'http://backend-plain.shop:9080/other', want: { status: 404, flags: 'NR' } },
];

/** One access-log line (Istio's default format) of a request id: status, flags, details, upstream cluster. */
function logged(log: string, id: string): Outcome | undefined {
  const line = log.split('\n').find((l) => l.includes(`"${id}"`));
  const m = line && /"\S+ \S+ HTTP\/1\.1" (\d+) (\S+) (\S+) .*"[^"]*" "[^"]*" "[^"]*" (\S+) \S+ \S+ \S+ \S+ \S+$/.exec(line);
  return m ? { status: Number(m[1]), responseFlags: m[2]!, responseCodeDetails: m[3]!, upstreamCluster: m[4]! } : undefined;
}

describe('trellis explain predicts what the proxies do', { skip: skipReason(), timeout: 120_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runDir: string;
  let state: MeshState;

  before(async () => {
    dir = fixtureCopy('explain-mesh');
    // The apps are up-mesh's (server, idle), shared rather than copied.
    copyFileSync(join(FIXTURES, 'up-mesh', 'app.mjs'), join(dir, 'app.mjs'));
    up = new UpRun(dir);
    runDir = (await up.waitFor(/^✓ run [0-9a-f]{6} \(files in (\S+)\)/, 30_000))[1]!;
    await up.waitFor(/^✓ all proxies SYNCED/, 60_000);
    await up.allReady();
    state = readStateFile([up.stateFile])!.state;
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pod = (prefix: string) => {
    const p = state.pods.find((x) => x.name.startsWith(prefix));
    assert.ok(p?.netns, `no pod ${prefix}`);
    return p;
  };

  /** A pod's proxy log, polled (bounded) until the request's line is there. */
  async function lineOf(name: string, id: string): Promise<Outcome> {
    let log = '';
    for (let i = 0, deadline = Date.now() + 5000; i < 100 && Date.now() < deadline; i++) {
      log = readFileSync(join(runDir, 'pods', 'shop', name, 'istio-proxy.log'), 'utf8');
      const o = logged(log, id);
      if (o) return o;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`no access-log line of ${id} in ${name}'s proxy log:\n${log.split('\n').slice(-10).join('\n')}`);
  }

  for (const s of SCENARIOS) {
    test(s.name, async () => {
      const headers = Object.fromEntries((s.headers ?? []).map((h) => h.split(': ') as [string, string]));
      // The programmatic API (what the CLI and the dashboard call), against the state file of this mesh.
      const e = await explainRequest({
        url: s.url, method: 'GET', headers, ...(s.seed !== undefined ? { seed: s.seed } : {}), from: 'deploy/tester',
        mesh: () => locateMesh({}, () => readStateFile([up.stateFile])),
      }) as unknown as Explanation;
      const dump = JSON.stringify(e, null, 1);
      const c = e.expected.client;
      assert.equal(c.responseFlags, s.want.flags, dump);
      if (s.want.status !== undefined) assert.equal(c.status, s.want.status, dump);
      else assert.equal(c.fromApp, true, dump);
      if (s.want.cluster) assert.equal(e.cluster, s.want.cluster);
      if (s.want.source) assert.ok(e.steps.some((x) => s.want.source!.test(x.source ?? '')), `no step cites ${s.want.source}:\n${dump}`);
      const id = e.request.requestId;
      // curl inside the tester pod's namespace: its connection is captured as the app's would be.
      const tester = pod('tester-');
      const code = execFileSync('ip', ['netns', 'exec', tester.netns!, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '5',
        '-H', `x-request-id: ${id}`, ...(s.headers ?? []).flatMap((h) => ['-H', h]), s.url], { encoding: 'utf8' });
      const got = await lineOf(tester.name, id);
      assert.equal(Number(code), got.status, 'curl and the access log agree');
      assert.equal(got.status, c.fromApp ? 200 : c.status);
      assert.equal(got.responseFlags, c.responseFlags);
      assert.equal(got.responseCodeDetails, c.responseCodeDetails);
      assert.equal(got.upstreamCluster, c.upstreamCluster);
      if (e.expected.server && e.to) {
        const server = await lineOf(e.to.replace(/\.shop$/, ''), id);
        const p = e.expected.server;
        assert.equal(server.status, p.fromApp ? 200 : p.status);
        assert.equal(server.responseFlags, p.responseFlags);
        assert.equal(server.responseCodeDetails, p.responseCodeDetails);
        assert.equal(server.upstreamCluster, p.upstreamCluster);
      }
    });
  }

  test('the CLI: -o json names the config dump\'s resources, text cites the policy; a bad URL is a usage error (exit 2)', () => {
    const json = up.cli(['explain', '--from', 'deploy/tester', `${BACKEND}/`, '--seed', '4', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const e = JSON.parse(json.stdout) as Explanation;
    assert.deepEqual([e.listener, e.routeConfiguration, e.cluster], ['0.0.0.0_9080', '9080', V2]);
    const text = up.cli(['explain', '--from', 'deploy/tester', `${BACKEND}/admin`]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /authorization +envoy\.filters\.http\.rbac denies the request/);
    assert.match(text.stdout, /source: AuthorizationPolicy shop\/deny-admin rules\[0\]/);
    const bad = up.cli(['explain', '--from', 'deploy/tester', 'backend:9080']);
    assert.equal(bad.code, 2, bad.stderr);
  });

  test('--from-admin without any mesh to locate: the source\'s side is explained, the destination is said to be unknown', () => {
    // Inside the tester pod, where its admin API listens, with no state file: any proxy, no trellis up.
    const r = execFileSync('ip', ['netns', 'exec', pod('tester-').netns!, process.execPath, trellisBin, 'explain', '--from-admin', '127.0.0.1:15000', '--seed', '4', `${BACKEND}/`, '-o', 'json'],
      { encoding: 'utf8', env: { ...process.env, TRELLIS_STATE_FILE: join(dir, 'no-such-state.json') } });
    const e = JSON.parse(r) as Explanation & { notes: string[] };
    assert.equal(e.cluster, V2);
    assert.equal(e.to, undefined);
    assert.equal(e.expected.client.fromApp, true);
    assert.ok(e.notes.some((n) => /has no sidecar explain knows/.test(n)), r);
  });
});
