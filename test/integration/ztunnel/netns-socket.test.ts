/**
 * The addon's sockets in other network namespaces (src/native/netns-socket.ts),
 * on a real kernel: namespaces of the test's own cluster (interception
 * fixture: pods "app" and "peer" running identity servers on 8080), deleted
 * in after(), also on failure. Listening inside a pod and not in the host,
 * SO_MARK seen by netfilter, IP_TRANSPARENT on listeners, and a transparent
 * connection into an ambient pod that the app sees as coming from the
 * caller's address.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Socket, type Server } from 'node:net';
import { runInPod, type Pod } from '../../../src/local/netns/index.js';
import { closeFd, listenInNetns, openNetns } from '../../../src/native/netns-socket.js';
import { applyInpodRedirect, defaultInpodConfig } from '../../../src/ztunnel/redirect/index.js';
import { TrellisError } from '../../../src/errors.js';
import { createMesh, destroyMesh, skipReason, type Mesh } from '../interception/fixture.js';
import { identityFrom, netnsPath, readFrom } from './netns-client.js';

const MARK = 0x539;

/** An echo server on a listening fd made by listenInNetns. */
function serve(fd: number): Promise<Server> {
  const server = createServer((s) => s.on('error', () => undefined).pipe(s));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => resolve(server));
  });
}

/** Packets counted by an iptables rule in the pod (mangle OUTPUT), matched by its comment. */
async function counted(pod: Pod, comment: string): Promise<number> {
  const r = await runInPod(pod, 'iptables', ['-t', 'mangle', '-L', 'OUTPUT', '-v', '-x', '-n']);
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.includes(`/* ${comment} */`));
  assert.ok(line, `rule ${comment} in\n${r.stdout}`);
  return Number(line.trim().split(/\s+/)[0]);
}

async function countRule(pod: Pod, comment: string, args: string[]): Promise<void> {
  const r = await runInPod(pod, 'iptables', ['-t', 'mangle', '-A', 'OUTPUT', ...args, '-m', 'comment', '--comment', comment]);
  assert.equal(r.code, 0, r.stderr);
}

function nativeErrno(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrellisError, String(err));
    assert.equal(err.code, 'NATIVE');
    return (err.cause as { code?: string }).code;
  }
  return 'no error';
}

describe('sockets in a network namespace (native)', { skip: skipReason() }, () => {
  let mesh: Mesh;
  let peerNs: number;
  let appNs: number;
  const servers: Server[] = [];

  before(async () => {
    mesh = await createMesh();
    peerNs = openNetns(netnsPath(mesh.peer.netns));
    appNs = openNetns(netnsPath(mesh.app.netns));
  });
  after(async () => {
    for (const s of servers) s.close();
    if (peerNs !== undefined) closeFd(peerNs);
    if (appNs !== undefined) closeFd(appNs);
    if (mesh) await destroyMesh(mesh);
  });

  test('a listener made in the pod serves inside it, and the host namespace cannot reach it', async () => {
    const server = await serve(listenInNetns(peerNs, { host: '127.0.0.1', port: 0 }));
    servers.push(server);
    const port = (server.address() as { port: number }).port;
    assert.equal(await readFrom(mesh.peer.netns, '127.0.0.1', port, { send: 'inside' }), 'inside');
    // The host's own loopback (never off the machine): nothing of ours listens there.
    const fromHost = await new Promise<string>((resolve) => {
      const s = new Socket().connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve('connected'); });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    assert.equal(fromHost, 'ECONNREFUSED');
  });

  test('SO_MARK is on the listener\'s accepted sockets and on a client socket when asked, and only then', async () => {
    const server = await serve(listenInNetns(peerNs, { host: '127.0.0.1', port: 0, mark: MARK }));
    servers.push(server);
    const port = (server.address() as { port: number }).port;
    const target = (await serve(listenInNetns(peerNs, { host: '127.0.0.1', port: 0 })));
    servers.push(target);
    const tport = (target.address() as { port: number }).port;
    await countRule(mesh.peer, 'listener-marked', ['-p', 'tcp', '--sport', String(port), '-m', 'mark', '--mark', `${MARK}`]);
    await countRule(mesh.peer, 'client-marked', ['-p', 'tcp', '--dport', String(tport), '-m', 'mark', '--mark', `${MARK}`]);
    await countRule(mesh.peer, 'client-unmarked', ['-p', 'tcp', '--dport', String(tport), '-m', 'mark', '!', '--mark', `${MARK}`]);
    assert.equal(await readFrom(mesh.peer.netns, '127.0.0.1', port, { send: 'x' }), 'x');
    assert.ok(await counted(mesh.peer, 'listener-marked') > 0, 'the listener\'s replies carry the mark');
    assert.equal(await readFrom(mesh.peer.netns, '127.0.0.1', tport, { send: 'y' }), 'y');
    assert.equal(await counted(mesh.peer, 'client-marked'), 0, 'an unmarked client sends no marked packet');
    const unmarked = await counted(mesh.peer, 'client-unmarked');
    assert.ok(unmarked > 0);
    assert.equal(await readFrom(mesh.peer.netns, '127.0.0.1', tport, { send: 'z', mark: MARK }), 'z');
    assert.ok(await counted(mesh.peer, 'client-marked') > 0, 'the marked client\'s packets carry the mark');
    assert.equal(await counted(mesh.peer, 'client-unmarked'), unmarked);
  });

  test('IP_TRANSPARENT lets a listener bind an address the namespace does not have', async () => {
    assert.equal(nativeErrno(() => listenInNetns(peerNs, { host: '10.250.0.1', port: 7001 })), 'EADDRNOTAVAIL');
    const fd = listenInNetns(peerNs, { host: '10.250.0.1', port: 7001, transparent: true });
    servers.push(await serve(fd));
  });

  test('a transparent connection into an ambient pod reaches the app with the caller\'s address', async () => {
    await applyInpodRedirect(defaultInpodConfig(), { netns: mesh.app.netns });
    const kept = await identityFrom(mesh.app.netns, mesh.app.ip, 8080, { mark: MARK, sourceIp: mesh.peer.ip });
    assert.equal(kept.name, 'app', JSON.stringify(kept));
    assert.equal(String(kept.peer).split(':')[0], mesh.peer.ip);
    const plain = await identityFrom(mesh.app.netns, mesh.app.ip, 8080, { mark: MARK });
    assert.equal(String(plain.peer).split(':')[0], mesh.app.ip);
  });

  test('bad input: clear NATIVE errors, nothing opened', () => {
    assert.equal(nativeErrno(() => openNetns('/etc/hostname')), 'EINVAL');
    assert.equal(nativeErrno(() => openNetns('/var/run/netns/no-such-namespace')), 'ENOENT');
    assert.equal(nativeErrno(() => listenInNetns(peerNs, { host: 'localhost', port: 1 })), 'EINVAL');
    assert.equal(nativeErrno(() => listenInNetns(peerNs, { host: '127.0.0.1', port: 70000 })), 'EINVAL');
    assert.equal(nativeErrno(() => listenInNetns(-1, { host: '127.0.0.1', port: 1 })), 'EINVAL');
    const taken = listenInNetns(peerNs, { host: '127.0.0.1', port: 7002 });
    try {
      assert.equal(nativeErrno(() => listenInNetns(peerNs, { host: '127.0.0.1', port: 7002 })), 'EADDRINUSE');
    } finally {
      closeFd(taken);
    }
  });
});
