/**
 * `trellis proxy-status` against the real control plane: two real sidecars
 * (whose capture listeners are refused: LDS ERROR, the NACK's reason shown
 * for one pod) and a proxyless gRPC client of ratings that takes all it is
 * sent (SYNCED);
 * istioctl's columns and words; exit codes; unknown pods; and finding the
 * mesh through the state file `trellis up` writes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningProxy } from '../proxy/harness.js';
import { eventually } from '../proxy/harness.js';
import { TrellisProcess } from '../../helpers/trellis-process.js';
import { CONTROL_PLANE_NAME, nodeId, run, startControlPlane, startSidecar, stopAll, table, type ControlPlane } from './mesh.js';

const COLUMNS = ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'CONTROL PLANE', 'VERSION'];

describe('trellis proxy-status', () => {
  let cpl: ControlPlane;
  let productpage: RunningProxy;
  let reviews: RunningProxy;
  let grpcClient: TrellisProcess;
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'trellis-ps-'));
    cpl = await startControlPlane();
    productpage = await startSidecar(cpl, 'productpage-v1', '10.244.0.10');
    reviews = await startSidecar(cpl, 'reviews-v1', '10.244.0.11');
    grpcClient = new TrellisProcess(['demo', 'client', '--target', 'xds:///ratings.default.svc.cluster.local:9080', '--xds', cpl.xds,
      '--node-id', nodeId('grpc-client', '10.244.0.20'), '--count', '0', '--interval-ms', '1000'], { TRELLIS_LOG: 'error' });
    // Every proxy has answered every response it got: none STALE any more.
    await eventually(async () => {
      const r = await run(['proxy-status', '--control-plane', cpl.debug]);
      return r.stdout.split('\n').length >= 5 && !r.stdout.includes('STALE') && r.stdout.includes('grpc-client');
    }, 15_000, 'three proxies answered');
  });

  after(async () => {
    await stopAll(cpl, productpage, reviews, grpcClient);
    await rm(work, { recursive: true, force: true });
  });

  test("one row per proxy, sorted, in istioctl's columns; ERROR (a NACK) exits 1", async () => {
    const r = await run(['proxy-status', '--control-plane', cpl.debug]);
    assert.equal(r.code, 1, r.stderr);
    const rows = table(r.stdout, COLUMNS);
    assert.deepEqual(rows.map((x) => x['NAME']), ['grpc-client.default', 'productpage-v1.default', 'reviews-v1.default']);
    for (const row of rows) {
      assert.equal(row['CLUSTER'], 'Kubernetes');
      assert.equal(row['CONTROL PLANE'], CONTROL_PLANE_NAME);
      assert.equal(row['ECDS'], 'IGNORED', 'nobody subscribes to ECDS');
      assert.match(row['CDS']!, /^SYNCED \(\d+s\)$/);
    }
    const [grpc, pp] = rows;
    for (const t of ['LDS', 'EDS', 'RDS']) assert.match(grpc![t]!, /^SYNCED \(\d+s\)$/, `${t} of the gRPC client`);
    assert.match(grpc!['VERSION']!, /^gRPC Node Pure JS\/\d/, 'its user agent: it sends no ISTIO_VERSION');
    assert.match(pp!['LDS']!, /^ERROR \(\d+s\)$/, 'capture listeners refused: the sidecar NACKed LDS');
    assert.equal(pp!['VERSION'], 'trellis/0.1.0');
  });

  test('POD: its row, then why each out-of-sync type is so', async () => {
    const r = await run(['proxy-status', 'productpage-v1', '--control-plane', cpl.debug]);
    assert.equal(r.code, 1);
    assert.deepEqual(table(r.stdout, COLUMNS).map((x) => x['NAME']), ['productpage-v1.default']);
    assert.match(r.stdout, /^LDS ERROR: the proxy rejected \(NACKed\) version \S+ \d+s ago: LDS virtualOutbound: use_original_dst needs SO_ORIGINAL_DST/m);
    const synced = await run(['proxy-status', 'grpc-client.default', '--control-plane', cpl.debug]);
    assert.equal(synced.code, 0, 'in sync: exit 0');
    assert.doesNotMatch(synced.stdout, /ERROR|STALE/);
  });

  test('an unknown pod: exit 1, and the pods there are', async () => {
    const r = await run(['proxy-status', 'details-v1', '--control-plane', cpl.debug]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /pod "details-v1" not found .*known pods: grpc-client\.default, productpage-v1\.default, reviews-v1\.default/);
  });

  test('-n filters by namespace; -o json is the syncz entries; usage errors exit 2', async () => {
    assert.equal((await run(['proxy-status', '-n', 'legacy', '--control-plane', cpl.debug])).stdout, `no proxies are connected to the control plane at ${cpl.debug} in namespace legacy\n`);
    const json = await run(['proxy-status', '-o', 'json', '--control-plane', cpl.debug]);
    const entries = JSON.parse(json.stdout) as { proxy: string; types: Record<string, { status: string; sentAt?: string }> }[];
    assert.equal(entries.length, 3);
    assert.ok(entries.every((e) => typeof e.types['CDS']?.sentAt === 'string'));
    for (const bad of [['proxy-status', '--bogus'], ['proxy-status', '-o', 'xml', '--control-plane', cpl.debug], ['proxy-status', '--control-plane', 'nohost']]) {
      const u = await run(bad);
      assert.equal(u.code, 2, `${bad.join(' ')}: ${u.stderr}`);
    }
  });

  test('the mesh from the state file: no flags needed; admin addresses come from it too', async () => {
    const stateFile = join(work, 'mesh.json');
    const env = { TRELLIS_STATE_FILE: stateFile };
    await writeFile(stateFile, JSON.stringify({
      version: 1, pid: process.pid,
      controlPlane: { debug: cpl.debug, xds: cpl.xds },
      pods: [{ name: 'productpage-v1', namespace: 'default', ip: '10.244.0.10', admin: `127.0.0.1:${productpage.adminPort}` }],
    }));
    const ps = await run(['proxy-status'], env);
    assert.equal(table(ps.stdout, COLUMNS).length, 3, ps.stderr);
    const clusters = await run(['proxy-config', 'clusters', 'productpage-v1', '--fqdn', 'reviews'], env);
    assert.equal(clusters.code, 0, clusters.stderr);
    assert.ok(table(clusters.stdout, ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']).length >= 4);
    const noAdmin = await run(['proxy-config', 'clusters', 'reviews-v1'], env);
    assert.equal(noAdmin.code, 1);
    assert.match(noAdmin.stderr, /admin address of reviews-v1\.default's proxy is not known .*pass --admin HOST:PORT/);
  });

  test('no mesh: a stale state file and no state file each say what to do', async () => {
    const stale = join(work, 'stale.json');
    await writeFile(stale, JSON.stringify({ pid: 2 ** 22 + 17, controlPlane: { debug: cpl.debug, xds: cpl.xds }, pods: [] }));
    const r = await run(['proxy-status'], { TRELLIS_STATE_FILE: stale });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /left by a trellis up \(pid \d+\) that is no longer running/);
    const none = await run(['proxy-status']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no running mesh found .*trellis up.*--control-plane HOST:PORT/);
    const broken = join(work, 'broken.json');
    await writeFile(broken, '{"controlPlane": {"debug": "x"}}');
    assert.match((await run(['proxy-status'], { TRELLIS_STATE_FILE: broken })).stderr, /mesh state file .*broken\.json: controlPlane\.debug and controlPlane\.xds must be HOST:PORT/);
  });
});
