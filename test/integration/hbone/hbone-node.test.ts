/**
 * HBONE between Trellis's own client and server over real loopback sockets:
 * a round trip with half-close, a large transfer under back-pressure, 401
 * and 503, pooling per (source, destination identity, address), a server
 * certificate with the wrong SAN aborting the client, a client of another
 * trust domain refused; and the openssl CLI as an outside judge of the TLS:
 * TLS 1.3 + h2 show the SPIFFE leaf, no client certificate and TLS 1.2 are refused;
 * a certificate swapped on a listening server; a drained client (its certificate
 * replaced) closing idle connections at once and busy ones with their last
 * tunnel, counted by `ss`; the client over a socket its user made.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer as createTlsServer } from 'node:tls';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import { dialTcp, HboneServer } from '../../../src/ztunnel/hbone/server.js';
import { HboneClient, HboneRefusedError } from '../../../src/ztunnel/hbone/client.js';
import type { HboneRequest } from '../../../src/ztunnel/hbone/connect-request.js';
import type { SpiffeId } from '../../../src/ztunnel/hbone/spiffe-peer.js';
import { CLIENT_ID, hbonePeers, readAll, SERVER_ID, summary, type HbonePeers } from '../../helpers/hbone-peers.js';
import { spiffe } from '../../helpers/pki.js';
import { settingsFrame } from '../../helpers/h2-raw.js';

const DENIED_PORT = 9;

/** Waits for `cond`, polling every 10 ms for at most 2 s. */
async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 2_000; !(await cond()); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > deadline) assert.fail(`condition not met in 2 s: ${cond}`);
  }
}

/** openssl s_client without SNI, asynchronously: the server under test runs on this event loop. */
function sslClient(port: number, args: string[]): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-noservername', ...args], { timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: unknown }).code) || 1 : 0, out: stdout + stderr }));
    child.stdin?.end();
  });
}

describe('HBONE: Trellis client ↔ Trellis server', () => {
  let peers: HbonePeers;
  let server: HboneServer;
  let port: number;
  let client: HboneClient;
  const seen: Array<{ peer: SpiffeId; request: HboneRequest }> = [];

  before(async () => {
    peers = await hbonePeers();
    server = new HboneServer({
      certificate: peers.workload(peers.server),
      trustDomain: 'cluster.local',
      authorize: (peer, request) => (seen.push({ peer, request }), request.destination.port === DENIED_PORT ? 'deny' : 'allow'),
    });
    port = (await server.listen(0)).port;
    client = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID });
  });
  after(async () => {
    await client?.close();
    await server?.close();
    await peers?.close();
  });

  const tunnel = (destPort: number, extra: Partial<Parameters<HboneClient['connect']>[0]> = {}) =>
    client.connect({ address: '127.0.0.1', port, destination: { host: '127.0.0.1', port: destPort }, expectedIdentities: [SERVER_ID], ...extra });

  it('carries bytes both ways with half-close, and the server reads the peer identity, forwarded, baggage and traceparent', async () => {
    const t = await tunnel(peers.summarize.port, {
      forwardedFor: { host: '10.1.2.3', port: 45678 },
      baggage: 'k8s.namespace.name=ambient',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const reply = readAll(t);
    t.write('hello ');
    t.end('world');
    // The upstream answers only after our FIN crossed the tunnel, and its answer still reaches us: half-close both ways.
    assert.equal((await reply).toString(), summary(Buffer.from('hello world')));
    const last = seen.at(-1)!;
    assert.equal(last.peer.uri, CLIENT_ID);
    assert.deepEqual(last.request.destination, { host: '127.0.0.1', port: peers.summarize.port });
    assert.deepEqual(last.request.forwardedFor, { host: '10.1.2.3', port: 45678 });
    assert.equal(last.request.baggage, 'k8s.namespace.name=ambient');
    assert.equal(last.request.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('keeps the caller\'s direction open after the upstream ended first', async () => {
    const received = peers.speakFirst.received();
    const t = await tunnel(peers.speakFirst.port);
    // The upstream's FIN arrives as the tunnel's end; what we send afterwards must still reach it.
    assert.equal((await readAll(t)).toString(), 'first\n');
    t.end('after your FIN');
    assert.equal(await received, 'after your FIN');
  });

  it('moves 24 MiB both ways intact, the writer held back by flow control', async () => {
    const data = randomBytes(24 * 1024 * 1024);
    const t = await tunnel(peers.echo.port);
    const back = readAll(t, 20_000);
    let pushedBack = 0;
    for (let i = 0; i < data.length; i += 256 * 1024) {
      if (!t.write(data.subarray(i, i + 256 * 1024))) {
        pushedBack++;
        await new Promise((r) => t.once('drain', r));
      }
    }
    t.end();
    const got = await back;
    assert.equal(got.length, data.length);
    assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));
    // 24 MiB cannot fit in the 4 MiB stream window: write() must have said "wait" (back-pressure), not buffered it all.
    assert.ok(pushedBack > 0, 'write() never returned false');
  });

  it('answers 401 when authorize denies and 503 when the upstream connect fails; a named endpoint is refused before any I/O', async () => {
    await assert.rejects(tunnel(DENIED_PORT), (e: unknown) => e instanceof HboneRefusedError && e.status === 401);
    await assert.rejects(tunnel(peers.refusedPort), (e: unknown) => e instanceof HboneRefusedError && e.status === 503 && e.code === 'HBONE_REFUSED');
    await assert.rejects(tunnel(peers.echo.port, { address: 'localhost' }), (e: unknown) => (e as { code?: string }).code === 'HBONE_CONNECT_FAILED' && /not an IP address/.test((e as Error).message));
  });

  it('answers 200 only once the upstream connect succeeded', async () => {
    let open!: () => void;
    let dialing!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const dialed = new Promise<void>((r) => (dialing = r));
    const slow = new HboneServer({ certificate: peers.workload(peers.server), trustDomain: 'cluster.local', dial: async (d, t) => (dialing(), await gate, dialTcp(d, t)) });
    const slowPort = (await slow.listen(0)).port;
    try {
      let settled = false;
      const pending = tunnel(peers.echo.port, { port: slowPort }).finally(() => (settled = true));
      await dialed;
      // The CONNECT is at the dial; a server that answered before it would have its 200 here within a loopback round trip.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(settled, false, 'the client had an answer before the upstream was connected');
      open();
      const t = await pending;
      t.end('x');
      assert.equal((await readAll(t)).toString(), 'x');
    } finally {
      await slow.close();
    }
  });

  it('pools one connection per (source, destination identity, address)', async () => {
    await client.close();
    const a = await tunnel(peers.echo.port);
    const b = await tunnel(peers.echo.port);
    assert.equal(client.connections, 1);
    // Another expected identity is another pool key, even for the same address.
    const c = await tunnel(peers.echo.port, { expectedIdentities: [SERVER_ID, spiffe('ambient', 'other')] });
    assert.equal(client.connections, 2);
    for (const t of [a, b, c]) t.destroy();
  });

  it('aborts the handshake when the server is not one of the expected identities', async () => {
    const before = seen.length;
    await assert.rejects(tunnel(peers.echo.port, { expectedIdentities: [spiffe('ambient', 'reviews')] }), (e: unknown) =>
      e instanceof Error && (e as { code?: string }).code === 'HBONE_IDENTITY' && e.message.includes(SERVER_ID));
    assert.equal(seen.length, before, 'no CONNECT reached the server');
  });

  it('refuses a client certificate of another trust domain before any CONNECT', async () => {
    const foreign = new HboneClient({ certificate: peers.workload(peers.foreign), identity: 'spiffe://other.domain/ns/ambient/sa/client', connectTimeoutMs: 5_000 });
    const before = seen.length;
    try {
      await assert.rejects(foreign.connect({ address: '127.0.0.1', port, destination: { host: '127.0.0.1', port: peers.echo.port }, expectedIdentities: [SERVER_ID] }),
        (e: unknown) => (e as { code?: string }).code === 'HBONE_CONNECT_FAILED');
    } finally {
      await foreign.close();
    }
    assert.equal(seen.length, before);
  });

  it('drops a connection whose peer stops answering PINGs, failing its tunnels', async () => {
    // A peer that completes TLS and sends its SETTINGS, then never answers anything (a pod whose namespace vanished).
    const mute = createTlsServer({ cert: peers.server.cert, key: peers.server.key, ALPNProtocols: ['h2'] }, (s) => {
      s.on('error', () => undefined);
      s.write(settingsFrame([]));
      s.resume();
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const quick = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID, keepalive: { intervalMs: 50, timeoutMs: 200 } });
    try {
      const started = Date.now();
      await assert.rejects(quick.connect({ address: '127.0.0.1', port: (mute.address() as { port: number }).port, destination: { host: '127.0.0.1', port: 80 }, expectedIdentities: [SERVER_ID] }),
        (e: unknown) => (e as { code?: string }).code === 'HBONE_CONNECT_FAILED' && /keepalive/.test((e as Error).message));
      assert.ok(Date.now() - started < 5_000);
      // The pool forgets the connection on its 'close', which follows the destroy.
      await until(() => quick.connections === 0);
    } finally {
      await quick.close();
      mute.close();
    }
  });

  it('gives up on a peer that never finishes the TLS handshake, leaving nothing in the pool', async () => {
    const silent = createNetServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const impatient = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID, connectTimeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(impatient.connect({ address: '127.0.0.1', port: (silent.address() as { port: number }).port, destination: { host: '127.0.0.1', port: 80 }, expectedIdentities: [SERVER_ID] }),
        (e: unknown) => (e as { code?: string }).code === 'HBONE_CONNECT_FAILED');
      assert.ok(Date.now() - started < 3_000);
      await until(() => impatient.connections === 0);
    } finally {
      await impatient.close();
      silent.close();
    }
  });

  it('setCertificate: a tunnel opened before the swap keeps working, and the next handshake presents the new certificate', async () => {
    const renewed = peers.pki.leaf(SERVER_ID);
    const rotating = new HboneServer({ certificate: peers.workload(peers.server), trustDomain: 'cluster.local' });
    const rotatingPort = (await rotating.listen(0)).port;
    const servedSerial = async () => {
      const r = await sslClient(rotatingPort, ['-tls1_3', '-alpn', 'h2', '-cert', peers.client.certFile, '-key', peers.client.keyFile, '-CAfile', peers.pki.ca.certFile]);
      return new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.out)![0]).serialNumber;
    };
    const early = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID });
    try {
      const open = await early.connect({ address: '127.0.0.1', port: rotatingPort, destination: { host: '127.0.0.1', port: peers.echo.port }, expectedIdentities: [SERVER_ID] });
      assert.equal(await servedSerial(), new X509Certificate(peers.server.cert).serialNumber);
      rotating.setCertificate(peers.workload(renewed));
      assert.equal(await servedSerial(), new X509Certificate(renewed.cert).serialNumber);
      const back = readAll(open);
      open.end('still up');
      assert.equal((await back).toString(), 'still up');
    } finally {
      await early.close();
      await rotating.close();
    }
  });

  it('drain(): an idle connection closes at once, an open tunnel keeps going and its connection closes when it ends; no new tunnel', async () => {
    const draining = new HboneServer({ certificate: peers.workload(peers.server), trustDomain: 'cluster.local' });
    const drainingPort = (await draining.listen(0)).port;
    // The kernel's view: our client's established connections to that server.
    const established = () => new Promise<number>((resolve, reject) => execFile('ss', ['-Htn', 'state', 'established', `( dport = :${drainingPort} )`], (err, out) =>
      err ? reject(err) : resolve(out.split('\n').filter((l) => l.trim()).length)));
    const old = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID });
    const req = (ids: string[]) => ({ address: '127.0.0.1', port: drainingPort, destination: { host: '127.0.0.1', port: peers.echo.port }, expectedIdentities: ids });
    try {
      const open = await old.connect(req([SERVER_ID]));
      // Another pool key, so another connection: idle once its only tunnel ended.
      const brief = await old.connect(req([SERVER_ID, spiffe('ambient', 'other')]));
      const echoed = readAll(brief);
      brief.end('x');
      await echoed;
      assert.equal(await established(), 2);
      const drained = old.drain();
      await assert.rejects(old.connect(req([SERVER_ID])), (e: unknown) => (e as { code?: string }).code === 'HBONE_CONNECT_FAILED' && /drained/.test((e as Error).message));
      await until(async () => (await established()) === 1);
      const back = new Promise((r) => open.once('data', r));
      open.write('still up');
      assert.equal(String(await back), 'still up', 'the tunnel opened before the drain still carries bytes both ways');
      assert.equal(await established(), 1);
      open.end();
      await drained;
      await until(async () => (await established()) === 0);
    } finally {
      await old.close();
      await draining.close();
    }
  });

  it('dials through the socket its user makes (the node proxy: inside the source pod); one that cannot be made is HBONE_CONNECT_FAILED', async () => {
    const made: string[] = [];
    const own = new HboneClient({
      certificate: peers.workload(peers.client),
      identity: CLIENT_ID,
      socket: (at) => (made.push(`${at.host}:${at.port}`), netConnect({ host: at.host, port: at.port, localAddress: '127.0.0.7' })),
    });
    const broken = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID, socket: () => { throw new Error('network namespace gone'); } });
    const req = { address: '127.0.0.1', port, destination: { host: '127.0.0.1', port: peers.summarize.port }, expectedIdentities: [SERVER_ID] };
    try {
      const t = await own.connect(req);
      const reply = readAll(t);
      t.end('abc');
      assert.equal((await reply).toString(), summary(Buffer.from('abc')));
      assert.deepEqual(made, [`127.0.0.1:${port}`]);
      await assert.rejects(broken.connect(req), (e: unknown) => (e as { code?: string }).code === 'HBONE_CONNECT_FAILED' && /network namespace gone/.test((e as Error).message));
    } finally {
      await Promise.all([own.close(), broken.close()]);
    }
  });

  it('openssl s_client -tls1_3 -alpn h2 sees the SPIFFE leaf; no client certificate and TLS 1.2 are refused', async () => {
    const ok = await sslClient(port, ['-tls1_3', '-alpn', 'h2', '-cert', peers.client.certFile, '-key', peers.client.keyFile, '-CAfile', peers.pki.ca.certFile, '-showcerts']);
    assert.match(ok.out, /New, TLSv1\.3,/);
    assert.match(ok.out, /ALPN protocol: h2/);
    assert.match(ok.out, /Verify return code: 0 \(ok\)/);
    const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(ok.out)![0];
    assert.ok(new X509Certificate(leaf).subjectAltName?.includes(`URI:${SERVER_ID}`));

    // TLS 1.3: the client finishes its side first, then reads the server's alert (hence -ign_eof: keep reading).
    const noCert = await sslClient(port, ['-tls1_3', '-alpn', 'h2', '-ign_eof', '-CAfile', peers.pki.ca.certFile]);
    assert.match(noCert.out, /certificate required/);

    const tls12 = await sslClient(port, ['-tls1_2', '-alpn', 'h2', '-cert', peers.client.certFile, '-key', peers.client.keyFile, '-CAfile', peers.pki.ca.certFile]);
    assert.notEqual(tls12.status, 0);
    assert.match(tls12.out, /protocol version/);
  });
});
