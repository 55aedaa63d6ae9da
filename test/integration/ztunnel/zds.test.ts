/**
 * ZDS between the node agent's client and the node proxy's server, through
 * a real unix SOCK_SEQPACKET socket, with real network namespaces (a
 * cluster of the test's own, deleted in after(), also on failure): the fd
 * an add carries is proven to name the pod's namespace by listening in it
 * and connecting from inside the pod.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsCluster, type Pod } from '../../../src/local/netns/index.js';
import { closeFd, listenInNetns } from '../../../src/native/netns-socket.js';
import { SeqpacketConnection, type Packet } from '../../../src/native/seqpacket.js';
import { TrellisError } from '../../../src/errors.js';
import { ZdsClient, ZdsServer, parseAck, type ZdsHandler, type ZdsPod } from '../../../src/ztunnel/zds/index.js';
import { skipReason } from '../interception/fixture.js';
import { netnsPath, readFrom } from './netns-client.js';

/** A handler that records what it was asked and keeps the fds it owns; `refuse` makes add fail. */
class Recorder implements ZdsHandler {
  readonly pods = new Map<string, ZdsPod>();
  readonly removed: string[] = [];
  snapshots = 0;
  refuse: string | undefined;

  async add(pod: ZdsPod): Promise<void> {
    if (this.refuse) throw new Error(this.refuse);
    this.pods.set(pod.uid, pod);
  }

  async remove(uid: string): Promise<void> {
    const p = this.pods.get(uid);
    if (p) closeFd(p.netnsFd);
    this.pods.delete(uid);
    this.removed.push(uid);
  }

  snapshotSent(): void {
    this.snapshots++;
  }
}

/** How many of this process's fds name the namespace at `path` (a leak check). */
function fdsNaming(path: string): number {
  const want = statSync(path);
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      const st = statSync(`/proc/self/fd/${fd}`);
      return st.ino === want.ino && st.dev === want.dev;
    } catch {
      return false;
    }
  }).length;
}

function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  return assert.rejects(p, (err: unknown) => err instanceof TrellisError && err.code === code && message.test(err.message));
}

describe('ZDS over a unix seqpacket socket', { skip: skipReason() }, () => {
  let cluster: NetnsCluster;
  let a: Pod;
  let b: Pod;
  let dir: string;
  let socket: string;
  let server: ZdsServer;
  const handler = new Recorder();
  const clients: ZdsClient[] = [];
  const listeners: Server[] = [];
  const podA = { uid: 'uid-a', name: 'a', namespace: 'shop', serviceAccount: 'sa-a' };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-zds-'));
    socket = join(dir, 'ztunnel', 'ztunnel.sock');
    cluster = await NetnsCluster.create();
    a = await cluster.addPod('a');
    b = await cluster.addPod('b');
    server = new ZdsServer(socket, handler);
    await server.listen();
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const l of listeners) l.close();
    await server?.close();
    for (const p of handler.pods.values()) closeFd(p.netnsFd);
    await cluster?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = async () => {
    const c = await ZdsClient.connect(socket, { timeoutMs: 2000 });
    clients.push(c);
    return c;
  };

  test('the socket is 0600 in a 0700 directory', () => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.ok(statSync(socket).isSocket());
    assert.equal(statSync(join(dir, 'ztunnel')).mode & 0o777, 0o700);
  });

  test('add carries the pod and an fd naming its namespace; remove hands it back', async () => {
    const c = await connect();
    await c.add(podA, netnsPath(a.netns));
    const got = handler.pods.get('uid-a');
    assert.ok(got);
    assert.deepEqual({ ...got, netnsFd: undefined }, { ...podA, netnsFd: undefined });
    assert.equal(fdsNaming(netnsPath(a.netns)), 1, 'the client closed its own fd; the server holds one');
    // Listening through the received fd: reachable from inside pod a, and from pod b only as a's address (not its loopback).
    const l = createServer((s) => s.on('error', () => undefined).end('from a\n'));
    listeners.push(l);
    await new Promise<void>((r) => l.listen({ fd: listenInNetns(got.netnsFd, { host: '0.0.0.0', port: 0 }) }, () => r()));
    const port = (l.address() as { port: number }).port;
    assert.equal(await readFrom(a.netns, '127.0.0.1', port), 'from a');
    assert.equal(await readFrom(b.netns, a.ip, port), 'from a');
    assert.equal(typeof (await readFrom(b.netns, '127.0.0.1', port)), 'object', 'not listening in b');
    await c.remove('uid-a');
    assert.deepEqual(handler.removed, ['uid-a']);
    assert.equal(fdsNaming(netnsPath(a.netns)), 0);
  });

  test('an error ack rejects the client\'s call with its message, and the fd is not leaked', async () => {
    const c = await connect();
    handler.refuse = 'no room for this pod';
    try {
      await rejectsWith(c.add({ ...podA, uid: 'uid-refused' }, netnsPath(a.netns)), 'ZDS_REJECTED', /add uid-refused: no room for this pod/);
    } finally {
      handler.refuse = undefined;
    }
    assert.equal(fdsNaming(netnsPath(a.netns)), 0);
    // The connection goes on.
    await c.add(podA, netnsPath(a.netns));
    await c.remove('uid-a');
  });

  test('a peer sending garbage is told why and disconnected; the server keeps serving others', async () => {
    const packets: Packet[] = [];
    let closed = false;
    const raw = SeqpacketConnection.connect(socket, { packet: (p) => packets.push(p), closed: () => (closed = true) });
    try {
      for (let i = 0; i < 100 && packets.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
      raw.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
      for (let i = 0; i < 200 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(packets.length, 2, 'hello, then an error ack');
      assert.match(parseAck(packets[1]!.data), /not a ZDS WorkloadRequest/);
      assert.ok(closed, 'the server closed the connection');
    } finally {
      raw.close();
    }
    const c = await connect();
    await c.add({ ...podA, uid: 'uid-after' }, netnsPath(b.netns));
    assert.equal(handler.pods.get('uid-after')?.name, 'a');
    await c.remove('uid-after');
  });

  test('a reconnecting node agent\'s snapshot removes the pods it no longer names', async () => {
    const first = await connect();
    await first.add({ ...podA, uid: 'uid-gone' }, netnsPath(a.netns));
    await first.add({ ...podA, uid: 'uid-stays' }, netnsPath(b.netns));
    first.close();
    const removedBefore = handler.removed.length;
    const second = await connect();
    await second.add({ ...podA, uid: 'uid-stays' }, netnsPath(b.netns));
    await second.snapshotSent();
    assert.deepEqual(handler.removed.slice(removedBefore), ['uid-gone']);
    assert.equal(handler.snapshots, 1);
    assert.ok(handler.pods.has('uid-stays'));
  });

  test('no node proxy: connect fails within its timeout; a closed server removes its socket', async () => {
    await rejectsWith(ZdsClient.connect(join(dir, 'nothing.sock'), { timeoutMs: 200 }), 'ZDS_UNAVAILABLE', /no node proxy at/);
    const c = await connect();
    await server.close();
    assert.equal(existsSync(socket), false);
    await rejectsWith(c.snapshotSent(), 'ZDS_UNAVAILABLE', /SnapshotSent/);
  });
});
