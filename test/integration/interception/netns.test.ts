/**
 * The one-machine cluster: namespaces, addressing, /etc/hosts, identities,
 * no route out, teardown, and removal of what a crashed run left.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetnsCluster, listOurNamespaces, removeStale, runInPod, type Pod } from '../../../src/local/netns/index.js';
import { APP_UID, connectFrom, skipReason, startServer, type Mesh } from './fixture.js';

const NETNS_INDEX = fileURLToPath(new URL('../../../src/local/netns/index.js', import.meta.url));

describe('pods as network namespaces', { skip: skipReason() }, () => {
  let cluster: NetnsCluster;
  let a: Pod;
  let b: Pod;
  const mesh = { children: [] } as unknown as Mesh;

  before(async () => {
    cluster = await NetnsCluster.create();
    a = await cluster.addPod('a');
    b = await cluster.addPod('b');
    mesh.cluster = cluster;
  });
  after(async () => {
    for (const c of mesh.children) c.kill('SIGKILL');
    await cluster?.teardown();
  });

  test('names carry the prefix and run id; addresses come from the pod range', async () => {
    assert.equal(a.netns, `trellis-${cluster.runId}-a`);
    assert.equal(cluster.nodeNetns, `trellis-${cluster.runId}-node`);
    assert.deepEqual([a.ip, b.ip], ['10.244.0.10', '10.244.0.11']);
    const ours = await listOurNamespaces();
    for (const ns of [a.netns, b.netns, cluster.nodeNetns]) assert.ok(ours.includes(ns));
  });

  test('pods reach each other by pod IP, keeping the source address', async () => {
    await startServer(mesh, b, 'b', [7070], APP_UID);
    const r = await connectFrom(a, APP_UID, b.ip, 7070);
    assert.equal(r.name, 'b');
    assert.equal(r.peer?.split(':')[0], a.ip);
  });

  test('no route leads outside the namespaces', async () => {
    for (const ns of [a.netns, cluster.nodeNetns]) {
      const r = await runInPod(ns, 'ip', ['-4', 'route', 'get', '192.0.2.1']);
      assert.notEqual(r.code, 0, `${ns} has a route out: ${r.stdout}`);
    }
    const node = await runInPod(cluster.nodeNetns, 'ip', ['-o', 'link', 'show']);
    assert.doesNotMatch(node.stdout, /\b(eth|en)\w*:/, 'the node has no uplink');
  });

  test('/etc/hosts inside the pod comes from /etc/netns', async () => {
    cluster.writeHosts('a', { 'reviews.default.svc.cluster.local': '10.96.0.20' });
    const r = await runInPod(a, 'cat', ['/etc/hosts']);
    assert.match(r.stdout, /^10\.96\.0\.20 reviews\.default\.svc\.cluster\.local$/m);
    assert.match(r.stdout, /^10\.244\.0\.10 a$/m);
  });

  test('processes run as the given uid, without capabilities', async () => {
    const r = await runInPod(a, 'sh', ['-c', 'id -u; grep CapEff /proc/self/status'], { uid: APP_UID });
    assert.match(r.stdout, /^1000\nCapEff:\s+0+\n$/);
  });

  test('bad names are refused', async () => {
    await assert.rejects(cluster.addPod('Bad_Name'), /pod name/);
    await assert.rejects(cluster.addPod('a'), /exists/);
  });

  test('a crashed run is cleaned up by the next start, live runs are not', async () => {
    const script = `const m = await import(${JSON.stringify(NETNS_INDEX)});
      const c = await m.NetnsCluster.create({ removeStale: false }); await c.addPod('x');
      console.log(c.runId); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const runId = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('crashing run did not start')), 15_000);
      child.stdout.setEncoding('utf8').once('data', (d: string) => { clearTimeout(timer); resolve(d.trim()); });
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const left = (await listOurNamespaces()).filter((n) => n.includes(`-${runId}-`));
    assert.deepEqual(left.sort(), [`trellis-${runId}-node`, `trellis-${runId}-x`]);
    const removed = await removeStale();
    assert.deepEqual(removed.filter((n) => n.includes(`-${runId}-`)).sort(), left.sort());
    const now = await listOurNamespaces();
    assert.ok(!now.some((n) => n.includes(`-${runId}-`)));
    assert.ok(now.includes(a.netns), 'the live run is untouched');
    assert.ok(!existsSync(`/etc/netns/trellis-${runId}-x`));
  });

  test('Ctrl-C (SIGINT) tears the cluster down', async () => {
    const script = `const m = await import(${JSON.stringify(NETNS_INDEX)});
      const c = await m.NetnsCluster.create({ removeStale: false }); await c.addPod('s'); c.teardownOnSignals();
      console.log(c.runId); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const runId = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('run did not start')), 15_000);
      child.stdout.setEncoding('utf8').once('data', (d: string) => { clearTimeout(timer); resolve(d.trim()); });
    });
    assert.ok((await listOurNamespaces()).includes(`trellis-${runId}-s`));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.ok(!(await listOurNamespaces()).some((n) => n.includes(`-${runId}-`)));
  });

  test('teardown removes everything it created', async () => {
    const c2 = await NetnsCluster.create({ removeStale: false });
    const p = await c2.addPod('t');
    await c2.teardown();
    const now = await listOurNamespaces();
    assert.ok(!now.includes(p.netns) && !now.includes(c2.nodeNetns));
    assert.ok(!existsSync(`/etc/netns/${p.netns}`));
    assert.ok(!existsSync(`/run/trellis-netns/${c2.runId}.pid`));
    await c2.teardown(); // twice is fine
  });
});
