/**
 * Ambient in-pod redirection on a real kernel: `trellis iptables ambient
 * --netns` writes the rules and the reply route into a pod namespace of its
 * own cluster (node namespace with a bridge, no route out); stand-ins for
 * the node proxy listen in the pod on 15001/15006/15008; real connections
 * show what is redirected and what is not, and that cleanup restores the
 * namespace as it was. Everything is deleted in after(), also on failure.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runInPod, type Pod } from '../../../src/local/netns/index.js';
import { ourRules, parseTables } from '../../../src/iptables/index.js';
import { trellisBin } from '../../helpers/trellis-process.js';
import { APP_UID, connectFrom, createMesh, destroyMesh, skipReason, startServer, type Mesh } from '../interception/fixture.js';
import { identityFrom } from './netns-client.js';

/** The node proxy's way of connecting: SO_MARK 0x539 and, with a source address, the caller's address kept. */
function marked(pod: Pod, host: string, port: number, src = ''): Promise<Record<string, unknown>> {
  return identityFrom(pod.netns, host, port, { mark: 0x539, ...(src ? { sourceIp: src } : {}) });
}

function ambient(pod: Pod, args: string[]) {
  const r = spawnSync(process.execPath, [trellisBin, 'iptables', 'ambient', '--netns', pod.netns, ...args], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `trellis iptables ambient ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The namespace's firewall and policy-routing state, without counters, headers or empty built-in chains. */
async function state(pod: Pod) {
  const out = async (cmd: string, args: string[]) => {
    const r = await runInPod(pod, cmd, args);
    assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const table100 = (text: string) => text.split('\n').filter((l) => /\btable 100\b/.test(l)).join('\n');
  const rules = (text: string) => parseTables(text).flatMap((t) => [
    ...t.chains.filter((c) => !['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].includes(c)).map((c) => `${t.table} :${c}`),
    ...t.rules.map((r) => `${t.table} ${r.line}`),
  ]);
  return {
    v4: rules(await out('iptables-save', [])),
    v6: rules(await out('ip6tables-save', [])),
    rule4: await out('ip', ['-4', 'rule', 'show']),
    rule6: await out('ip', ['-6', 'rule', 'show']),
    // Table 100 only: the kernel adds link-local routes of its own meanwhile.
    route4: table100(await out('ip', ['-4', 'route', 'show', 'table', 'all'])),
    route6: table100(await out('ip', ['-6', 'route', 'show', 'table', 'all'])),
  };
}

describe('ambient in-pod redirection', { skip: skipReason() }, () => {
  let mesh: Mesh;
  let app: Pod;
  let peer: Pod;
  let pristine: Awaited<ReturnType<typeof state>>;

  before(async () => {
    mesh = await createMesh();
    app = mesh.app;
    peer = mesh.peer;
    // The node proxy's listeners in the pod (any uid: in ambient mode the mark, not the uid, tells its traffic apart).
    await startServer(mesh, app, 'ztunnel', [15001, 15006, 15008], APP_UID);
    pristine = await state(app);
    ambient(app, []);
  });
  after(async () => {
    if (mesh) await destroyMesh(mesh);
  });

  test('the rules and the reply route are in the pod namespace; applying again changes nothing', async () => {
    const first = await state(app);
    const ours = ourRules((await runInPod(app, 'iptables-save', [])).stdout);
    for (const want of [/^mangle -A TRELLIS_PRERT .*--mark 0x539\/0xfff -j CONNMARK --set-xmark 0x111\/0xfff/,
      /^nat -A TRELLIS_PRERT .*! --dport 15008 .*-j REDIRECT --to-ports 15006/, /^nat -A TRELLIS_OUTPUT .*-j REDIRECT --to-ports 15001/]) {
      assert.ok(ours.some((l) => want.test(l)), `${want} in\n${ours.join('\n')}`);
    }
    assert.match(first.rule4, /^32764:\s+from all fwmark 0x111\/0xfff lookup 100\s*$/m);
    assert.match(first.route4, /^local default dev lo table 100 scope host/m);
    assert.match(first.route6, /^local default dev lo /m);
    ambient(app, []);
    assert.deepEqual(await state(app), first);
  });

  test('outbound from the app lands on 15001 with its original destination; the node proxy\'s marked traffic does not', async () => {
    const r = await connectFrom(app, APP_UID, peer.ip, 8080);
    assert.equal(r.name, 'ztunnel');
    assert.equal(r.listener, 15001);
    assert.equal(r.orig, `${peer.ip}:8080`);
    const m = await marked(app, peer.ip, 8080);
    assert.equal(m.name, 'peer', JSON.stringify(m));
  });

  test('inbound plaintext lands on 15006; HBONE to :15008 reaches its listener unredirected', async () => {
    const plain = await connectFrom(peer, APP_UID, app.ip, 8080);
    assert.equal(plain.listener, 15006);
    assert.equal(plain.orig, `${app.ip}:8080`);
    assert.equal(plain.peer?.split(':')[0], peer.ip);
    const hbone = await connectFrom(peer, APP_UID, app.ip, 15008);
    assert.equal(hbone.name, 'ztunnel');
    assert.equal(hbone.listener, 15008);
  });

  test('the proxy connects to the app with the caller\'s address, and the reply comes back through the policy route', async () => {
    // The app's answer goes to the peer's address: without connmark and the route it would leave by eth0 and be reset.
    const r = await marked(app, app.ip, 8080, peer.ip);
    assert.equal(r.name, 'app', JSON.stringify(r));
    assert.equal(String(r.peer).split(':')[0], peer.ip);
  });

  test('cleanup restores the namespace exactly, twice in a row, and traffic goes direct again', async () => {
    ambient(app, ['--cleanup']);
    assert.deepEqual(await state(app), pristine);
    ambient(app, ['--cleanup']);
    assert.deepEqual(await state(app), pristine);
    const r = await connectFrom(app, APP_UID, peer.ip, 8080);
    assert.equal(r.name, 'peer');
  });
});
