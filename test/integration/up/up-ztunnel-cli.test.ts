/**
 * The node proxy in the debugging CLI and in `trellis up`'s live status, on
 * a real `trellis up` (as root, netns mode) of test/fixtures/up-ambient —
 * an ambient namespace (shop/web, service account web), an ambient pod
 * (default/solo) and a plain pod — running the real `trellis ztunnel`.
 * Checked: the state file lists the node proxy (node, admin in the node
 * namespace, its pid); `ztunnel-config workloads` lists the ambient pods
 * with protocol HBONE (and one pod's row when that pod is named);
 * `certificates` shows each service account's SPIFFE id as a valid Leaf;
 * `proxy-status` lists ztunnel-NODE.istio-system with WDS and WADS SYNCED;
 * `ztunnel-config log` sets a logger's level on it;
 * the status shows the node proxy's memory beside the sidecars', and its
 * sync in the ambient pods' PROXY column.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { skipReason } from '../e2e/two-pod-mesh.js';
import { UpRun, fixtureCopy } from './up-run.js';

const skip = skipReason();

interface State { nodeProxies?: { name: string; namespace: string; node: string; admin: string; netns?: string; pid?: number }[]; pods: { name: string; node?: string }[] }

describe('trellis up with the node proxy: ztunnel-config, proxy-status, the memory status', { skip, timeout: 90_000 }, () => {
  let dir: string;
  let up: UpRun;
  const state = () => JSON.parse(readFileSync(up.stateFile, 'utf8')) as State;

  /** Runs a CLI command until `ok` holds for its result (the node proxy gets its config and certificates on its own time). */
  async function cliUntil(args: string[], ok: (r: { code: number; stdout: string }) => boolean, timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
    const deadline = Date.now() + timeoutMs;
    let r = await up.cliAsync(args);
    for (let i = 0; i < 60 && !ok(r) && Date.now() < deadline; i++) {
      await new Promise((res) => setTimeout(res, 250));
      r = await up.cliAsync(args);
    }
    assert.ok(ok(r), `trellis ${args.join(' ')} (exit ${r.code}):\n${r.stdout}${r.stderr}`);
    return r;
  }

  type Result = Promise<{ code: number; stdout: string; stderr: string }>;
  /** The commands the tests check, started together once the mesh serves: each is a process start, and the suite's time is counted. */
  let runs: { workloads: Result; solo: Result; certificates: Result; proxyStatus: Result; log: Result };
  const rowsOf = (x: { stdout: string }) => x.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/ +/)[1]);
  const ids = ['spiffe://cluster.local/ns/shop/sa/web', 'spiffe://cluster.local/ns/default/sa/default'];
  const leaf = (out: string, id: string) => out.split('\n').find((l) => l.startsWith(`${id} `) && / Leaf +Available +true +[0-9a-f]+ /.test(l));
  const nodeProxyName = () => `${state().nodeProxies?.[0]?.name ?? '?'}.istio-system`;

  before(async () => {
    dir = fixtureCopy('up-ambient');
    up = new UpRun(dir);
    await up.waitFor(/^✓ pods: 3 started \(0 with sidecars, 2 ambient\)/, 60_000);
    await up.waitFor(/^✓ serving: /, 30_000);
    runs = {
      workloads: cliUntil(['ztunnel-config', 'workloads'], (x) => x.code === 0 && /\nshop +web-/.test(x.stdout) && /\ndefault +solo /.test(x.stdout)),
      solo: cliUntil(['ztunnel-config', 'workloads', 'solo.default'], (x) => x.code === 0 && rowsOf(x).length > 0),
      certificates: cliUntil(['ztunnel-config', 'certificates'], (x) => x.code === 0 && ids.every((id) => leaf(x.stdout, id))),
      proxyStatus: cliUntil(['proxy-status'], (x) => x.code === 0 && x.stdout.includes(nodeProxyName())),
      log: up.cliAsync(['ztunnel-config', 'log', '--level', 'ztunnel:debug']),
    };
    // Each test awaits its own; a failure must not be an unhandled rejection before then.
    for (const r of Object.values(runs)) r.catch(() => undefined);
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the state file lists the node proxy: its node, its admin API in the node namespace, its pid', () => {
    const s = state();
    const node = s.pods.find((p) => p.name === 'solo')?.node;
    assert.ok(node);
    assert.equal(s.nodeProxies?.length, 1, JSON.stringify(s));
    const np = s.nodeProxies[0]!;
    assert.deepEqual({ ...np, pid: undefined }, { name: `ztunnel-${node}`, namespace: 'istio-system', node, admin: '127.0.0.1:15000', netns: node, pid: undefined });
    assert.match(readFileSync(`/proc/${np.pid}/cmdline`, 'utf8'), /\0ztunnel\0--node-name\0/);
  });

  test('ztunnel-config workloads: the ambient pods with protocol HBONE on this node; a named pod alone', async () => {
    const [r, one] = await Promise.all([runs.workloads, runs.solo]);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAMESPACE +POD NAME +ADDRESS +NODE +WAYPOINT +PROTOCOL$/);
    const node = state().nodeProxies![0]!.node;
    for (const name of ['solo', 'web-']) {
      const row = lines.find((l) => l.split(/ +/)[1]!.startsWith(name));
      assert.match(row ?? '', new RegExp(`^\\S+ +${name}\\S* +10\\.244\\.0\\.\\d+ +${node} +None +HBONE$`), r.stdout);
    }
    assert.deepEqual(rowsOf(one), ['solo'], one.stdout);
  });

  test('ztunnel-config certificates: each ambient service account\'s SPIFFE id, a valid Leaf', async () => {
    const r = await runs.certificates;
    assert.match(r.stdout.split('\n')[0]!, /^CERTIFICATE NAME +TYPE +STATUS +VALID CERT +SERIAL NUMBER +NOT AFTER +NOT BEFORE$/);
  });

  test('proxy-status lists the node proxy with the workload API types SYNCED', async () => {
    const name = nodeProxyName();
    const r = await runs.proxyStatus;
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME +CLUSTER +CDS +LDS +EDS +RDS +ECDS +WADS +WDS +CONTROL PLANE +VERSION$/);
    assert.match(lines.find((l) => l.startsWith(`${name} `)) ?? '', /^\S+ +Kubernetes +(?:\S+(?: SENT)? +){5}SYNCED \(\w+\) +SYNCED \(\w+\) /, r.stdout);
  });

  test('ztunnel-config log changes the node proxy\'s log level through its admin API', async () => {
    const r = await runs.log;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${nodeProxyName().replace(/\./g, '\\.')}:\nactive loggers:\n(?:.*\n)*  ztunnel: debug\n`), r.stdout);
  });

  test('the live status shows the node proxy\'s memory beside the sidecars\', and its sync for the ambient pods', async () => {
    const m = await up.waitFor(/^data plane memory: 0 sidecars 0 MiB · node proxy (\d+) MiB for 2 ambient pods$/, 20_000);
    assert.ok(Number(m[1]) > 10, `a node proxy of ${m[1]} MiB`);
    await up.waitFor(/RSS \d+ MiB \(control plane \d+, 0 sidecars 0, node proxy [1-9]\d*, apps \d+, trellis up \d+\)/, 5_000);
    // The ambient pods' PROXY column is their node proxy's sync; the plain pod has none.
    await up.waitFor(/^default +solo +1\/1 +Running .* node proxy SYNCED *$/, 5_000);
    await up.waitFor(/^default +plain +1\/1 +Running .* no sidecar *$/, 5_000);
  });
});
