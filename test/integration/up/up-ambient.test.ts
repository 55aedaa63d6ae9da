/**
 * `trellis up`'s ambient wiring, as root with network namespaces: the
 * fixture (test/fixtures/up-ambient) has a namespace labelled
 * istio.io/dataplane-mode=ambient, a pod labelled so itself, and a plain
 * pod. `trellis ztunnel` is being written in parallel (issue 15's contract),
 * so up runs a FAKE node proxy in its place (fake-node-proxy.ts, through
 * TRELLIS_UP_NODE_PROXY) that serves ZDS with the real server and reports
 * what it received. Checked: one node proxy with the contract's flags and a
 * node-bound istio-system/ztunnel token; only ambient pods sent, each with
 * an fd that is its own namespace (same inode, and a listener made through
 * it answers at the pod's address); no sidecars; the in-pod rules in
 * ambient pods only; a removed pod removed over ZDS; a refused pod failed
 * with the node proxy's reason; a killed node proxy
 * restarted and sent the pods again; the node proxy stopped with the mesh.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runInPod } from '../../../src/local/netns/index.js';
import { skipReason } from '../e2e/two-pod-mesh.js';
import { readFrom } from '../ztunnel/netns-client.js';
import { UpRun, fixtureCopy } from './up-run.js';

const skip = skipReason();
const FAKE = fileURLToPath(new URL('./fake-node-proxy.js', import.meta.url));

interface Reported { event: string; [k: string]: unknown }
interface StatePod { name: string; namespace: string; ip: string; netns?: string; admin?: string; node: string }

describe('trellis up: ambient pods and the node proxy', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runId: string;
  const reportFile = join(tmpdir(), `trellis-fake-node-proxy-${process.pid}.jsonl`);

  const reported = (): Reported[] => readFileSync(reportFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Reported);
  const pods = (): StatePod[] => (JSON.parse(readFileSync(up.stateFile, 'utf8')) as { pods: StatePod[] }).pods;
  const pod = (prefix: string) => {
    const p = pods().find((x) => x.name.startsWith(prefix));
    assert.ok(p, `no pod ${prefix}`);
    return p;
  };
  /** The pod's uid as the control plane reads it (RUN/cluster/pods.yaml, the API server's copy). */
  const uidOf = (name: string) => {
    const docs = parseAllDocuments(readFileSync(`/run/trellis/up-${runId}/cluster/pods.yaml`, 'utf8')).map((d) => d.toJS() as { metadata?: { name: string; uid: string } } | null);
    const item = docs.find((d) => d?.metadata?.name === name);
    assert.ok(item?.metadata, `pod ${name} in pods.yaml`);
    return item.metadata.uid;
  };
  async function until<T>(what: string, f: () => T | undefined, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      const v = f();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what} not within ${timeoutMs} ms; reported: ${readFileSync(reportFile, 'utf8')}`);
  }

  before(async () => {
    writeFileSync(reportFile, '');
    process.env.TRELLIS_UP_NODE_PROXY = JSON.stringify([process.execPath, FAKE]);
    process.env.FAKE_NODE_PROXY_REPORT = reportFile;
    dir = fixtureCopy('up-ambient');
    up = new UpRun(dir);
    runId = (await up.waitFor(/^✓ run ([0-9a-f]{6}) /, 30_000))[1]!;
    await up.waitFor(/^✓ pods: 3 started \(0 with sidecars, 2 ambient\)/, 60_000);
    await up.allReady();
  });

  after(async () => {
    delete process.env.TRELLIS_UP_NODE_PROXY;
    delete process.env.FAKE_NODE_PROXY_REPORT;
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(reportFile, { force: true });
  });

  test('one node proxy, with the contract\'s flags and a token for istio-system/ztunnel bound to the node', () => {
    const starts = reported().filter((r) => r.event === 'start');
    assert.equal(starts.length, 1);
    const { flags, claims } = starts[0] as unknown as { flags: Record<string, string>; claims: { sub: string; 'kubernetes.io': { node?: { name: string } } } };
    const node = pod('solo').node;
    assert.equal(flags['node-name'], node);
    assert.match(flags['xds-address']!, /^10\.244\.0\.1:15010$/);
    assert.match(flags['ca-address']!, /^10\.244\.0\.1:15012$/);
    assert.equal(flags['admin-port'], '15000');
    assert.equal(flags['zds-socket'], `/run/trellis/up-${runId}/ztunnel/ztunnel.sock`);
    assert.ok(statSync(flags['root-cert']!).isFile());
    assert.equal(statSync(flags['token-file']!).mode & 0o777, 0o600);
    assert.equal(claims.sub, 'system:serviceaccount:istio-system:ztunnel');
    assert.equal(claims['kubernetes.io'].node?.name, node);
  });

  test('only ambient pods are sent, each with its own namespace, then SnapshotSent; none has a sidecar', async () => {
    const adds = reported().filter((r) => r.event === 'add');
    assert.deepEqual(adds.map((a) => `${a.namespace}/${String(a.name).replace(/-.*/, '')}/${a.serviceAccount}`).sort(), ['default/solo/default', 'shop/web/web']);
    for (const a of adds) {
      const p = pod(String(a.name));
      const st = statSync(`/var/run/netns/${p.netns}`);
      assert.equal(a.netnsIno, st.ino, `${a.name}: the fd names its namespace`);
      assert.equal(p.admin, undefined, `${a.name} has no sidecar`);
    }
    assert.equal(adds.find((a) => a.name === 'solo')?.uid, uidOf('solo'));
    assert.equal(reported().filter((r) => r.event === 'snapshot').length, 1);
    // Through the fd it received, the node proxy listens in the pod: the plain pod reaches it at the pod's address.
    assert.equal(await readFrom(pod('plain').netns!, pod('solo').ip, 15008), 'fake-node-proxy solo');
  });

  test('the in-pod rules are in ambient pods only', async () => {
    const rules = async (name: string) => (await runInPod({ name, netns: pod(name).netns!, ip: pod(name).ip }, 'iptables-save', ['-t', 'nat'])).stdout;
    assert.match(await rules('solo'), /-A TRELLIS_PRERT .*! --dport 15008 .*-j REDIRECT --to-ports 15006/);
    assert.match(await rules('web'), /-A TRELLIS_OUTPUT .*-j REDIRECT --to-ports 15001/);
    assert.doesNotMatch(await rules('plain'), /TRELLIS/);
  });

  test('a pod taken out of the config is removed from the node proxy', async () => {
    const uid = uidOf('solo');
    const yaml = readFileSync(join(dir, 'mesh.yaml'), 'utf8');
    writeFileSync(join(dir, 'mesh.yaml'), yaml.replace(/---\napiVersion: v1\nkind: Pod\nmetadata: \{name: solo,[\s\S]*?(?=---)/, ''));
    await until('remove of solo', () => reported().find((r) => r.event === 'remove' && r.uid === uid));
  });

  test('a pod the node proxy refuses fails to start, with the node proxy\'s reason', async () => {
    writeFileSync(join(dir, 'refused.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: refused, namespace: shop}\nspec:\n  containers:\n  - {name: c, image: ignored, command: [sleep, "3600"]}\n');
    await up.waitFor(/shop\/refused: failed to start: the node proxy refused add [0-9a-f-]+: the fake node proxy refuses this pod/, 15_000);
    writeFileSync(join(dir, 'refused.yaml'), '# gone\n');
  });

  test('a node proxy that dies is restarted and sent every ambient pod again, then SnapshotSent', async () => {
    const first = Number(reported().find((r) => r.event === 'start')?.pid);
    process.kill(first, 'SIGKILL');
    const restartAt = await until('a second start', () => {
      const i = reported().findIndex((r, k) => r.event === 'start' && k > 0);
      return i > 0 ? i : undefined;
    });
    const after = await until('the replay and its snapshot', () => {
      const rest = reported().slice(restartAt);
      return rest.some((r) => r.event === 'snapshot') ? rest : undefined;
    });
    assert.deepEqual(after.filter((r) => r.event === 'add').map((r) => `${r.namespace}/${String(r.name).replace(/-.*/, '')}`), ['shop/web']);
    assert.deepEqual(after.map((r) => r.event), ['start', 'add', 'snapshot']);
  });

  test('the node proxy stops with the mesh', async () => {
    const pid = Number(reported().filter((r) => r.event === 'start').pop()?.pid);
    const r = await up.stop('SIGINT');
    assert.equal(r.code, 130);
    assert.ok(reported().some((x) => x.event === 'exit'), 'the node proxy was asked to stop (SIGTERM), not killed');
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});
