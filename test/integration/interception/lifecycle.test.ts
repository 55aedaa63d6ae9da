/**
 * Apply / re-apply / cleanup on a real kernel: idempotence, exact removal
 * (other rules untouched), both back ends, dry-run output the kernel
 * accepts, and clear failures without NET_ADMIN.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runInPod, type Pod } from '../../../src/local/netns/index.js';
import { ourRules, parseTables } from '../../../src/iptables/index.js';
import { OTHER_UID, applyIn, createMesh, destroyMesh, iptablesCli, skipReason, type Mesh } from './fixture.js';

async function save(pod: Pod, bin = 'iptables-save'): Promise<string> {
  const r = await runInPod(pod, bin, []);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Custom chains and rules of every table, without headers, counters or empty built-in tables. */
function meaning(saveText: string): string[] {
  return parseTables(saveText).flatMap((t) => [
    ...t.chains.filter((c) => !['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].includes(c)).map((c) => `${t.table} :${c}`),
    ...t.rules.map((r) => `${t.table} ${r.line}`),
  ]);
}

const FULL = ['-m', 'TPROXY', '-b', '*', '--redirect-dns', '--dns-servers', '10.96.0.53', '--drop-invalid', '-c', 'eth9'];

describe('apply, re-apply and cleanup', { skip: skipReason() }, () => {
  let mesh: Mesh;
  let pod: Pod;

  before(async () => {
    mesh = await createMesh();
    pod = mesh.app;
  });
  after(async () => {
    if (mesh) await destroyMesh(mesh);
  });

  test('applying twice yields identical rules (IPv4 and IPv6)', async () => {
    await applyIn(pod, FULL);
    const first = { v4: ourRules(await save(pod)), v6: ourRules(await save(pod, 'ip6tables-save')) };
    await applyIn(pod, FULL);
    const second = { v4: ourRules(await save(pod)), v6: ourRules(await save(pod, 'ip6tables-save')) };
    assert.ok(first.v4.some((l) => l.includes('TRELLIS_TPROXY')), 'rules were written');
    assert.ok(first.v6.some((l) => l.includes('TRELLIS_OUTPUT')), 'IPv6 rules were written');
    assert.deepEqual(second, first);
  });

  test('re-applying with other flags leaves nothing of the previous rules', async () => {
    await applyIn(pod, ['-o', '4242', '-c', 'eth7']);
    assert.ok(ourRules(await save(pod)).some((l) => l.includes('4242')));
    await applyIn(pod, []);
    const now = (await save(pod)).split('\n');
    assert.equal(now.filter((l) => l.includes('4242') || l.includes('eth7') || l.includes('TPROXY')).length, 0);
  });

  test('cleanup removes exactly ours and leaves other rules untouched', async () => {
    await applyIn(pod, ['--cleanup']);
    const foreign = [
      ['-t', 'nat', '-N', 'FOREIGN'], ['-t', 'nat', '-A', 'FOREIGN', '-p', 'tcp', '--dport', '9999', '-j', 'RETURN'],
      ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '9998', '-j', 'FOREIGN'],
      ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '--dport', '9997', '-j', 'MARK', '--set-mark', '7'],
    ];
    for (const args of foreign) assert.equal((await runInPod(pod, 'iptables', args)).code, 0);
    const before = meaning(await save(pod));
    await applyIn(pod, FULL);
    const during = meaning(await save(pod));
    assert.ok(during.length > before.length);
    for (const line of before) assert.ok(during.includes(line), `kept during apply: ${line}`);
    await applyIn(pod, ['--cleanup']);
    assert.deepEqual(meaning(await save(pod)), before);
    assert.deepEqual(ourRules(await save(pod, 'ip6tables-save')), []);
    await applyIn(pod, ['--cleanup']); // nothing left to remove: still fine
    assert.deepEqual(meaning(await save(pod)), before);
  });

  test('the back end is detected and reported', async () => {
    const version = (await runInPod(pod, 'iptables', ['--version'])).stdout;
    const r = await iptablesCli(pod, []);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`back end ${/nf_tables/.test(version) ? 'nft' : 'legacy'} `));
  });

  test('the legacy back end works too and keeps to its own tables', async () => {
    const lgc = await mesh.cluster.addPod('lgc');
    const r = await iptablesCli(lgc, ['--backend', 'legacy']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /back end legacy/);
    assert.ok(ourRules(await save(lgc, 'iptables-legacy-save')).some((l) => l.includes('TRELLIS_OUTPUT')));
    assert.deepEqual(ourRules(await save(lgc, 'iptables-nft-save')), []);
    assert.equal((await iptablesCli(lgc, ['--backend', 'legacy', '--cleanup'])).code, 0);
    assert.deepEqual(ourRules(await save(lgc, 'iptables-legacy-save')), []);
  });

  test('the dry-run output is what the kernel accepts', async () => {
    const r = await iptablesCli(pod, [...FULL, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const [, v4, v6] = r.stdout.split(/^# ip6?tables-restore --noflush\n/m);
    assert.ok(v4 && v6, 'both families printed');
    for (const [bin, input] of [['iptables-restore', v4], ['ip6tables-restore', v6]] as const) {
      const t = await runInPod(pod, bin, ['--test', '--noflush'], { input });
      assert.equal(t.code, 0, `${bin} --test: ${t.stderr}`);
    }
  });

  test('without NET_ADMIN: one clear line, exit code 2, nothing changed', async () => {
    await applyIn(pod, ['--cleanup']);
    const before = await save(pod);
    for (const opts of [{ uid: OTHER_UID }, { dropCaps: ['net_admin'] }]) {
      const r = await iptablesCli(pod, [], opts);
      assert.equal(r.code, 2, JSON.stringify(opts));
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] as string, /^trellis iptables: .*CAP_NET_ADMIN/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    assert.deepEqual(meaning(await save(pod)), meaning(before));
  });
});
