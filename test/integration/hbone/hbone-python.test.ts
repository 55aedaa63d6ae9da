/**
 * HBONE interop with an independent HTTP/2 stack: Python's ssl and h2
 * (Debian's python3-h2), small peers in test/fixtures/hbone. Both directions:
 * a Python client against Trellis's server, Trellis's client against a Python
 * server, checking the CONNECT's exact shape and headers, TLS 1.3 with h2 and
 * no SNI, 200/400/401/503, and a server with the wrong SAN aborting the client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HboneServer } from '../../../src/ztunnel/hbone/server.js';
import { HboneClient, HboneRefusedError } from '../../../src/ztunnel/hbone/client.js';
import type { HboneRequest } from '../../../src/ztunnel/hbone/connect-request.js';
import { CLIENT_ID, hbonePeers, pyHboneClient, pythonWithH2, SERVER_ID, summary, type HbonePeers } from '../../helpers/hbone-peers.js';
import { spiffe, type Pem } from '../../helpers/pki.js';

const fixtures = fileURLToPath(new URL('../../../../test/fixtures/hbone/', import.meta.url));
const python = pythonWithH2();
const skip = python ? false : 'needs python3 with h2 (Debian: apt-get install python3-h2)';
const DENIED_PORT = 9;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

type Json = Record<string, unknown>;

// ztunnel's values, written out: a test importing the constants would follow them wherever they went.
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;
const FRAME_SIZE = 1024 * 1024;
const MAX_HEADER_LIST = 64 * 1024;

const pick = (o: unknown, keys: string[]) => Object.fromEntries(keys.map((k) => [k, (o as Json)[k]]));

const pyClient = (pem: { certFile: string; keyFile: string }, ca: string, port: number, args: string[]) => pyHboneClient(python!, pem, ca, port, args);

/** A Python HBONE server: its port and the JSON lines it printed (one per CONNECT). */
class PyServer {
  readonly lines: Json[] = [];
  readonly #proc: ChildProcess;
  readonly #waiters: Array<() => void> = [];

  constructor(pem: Pem, ca: string, deny: number[]) {
    this.#proc = spawn(python!, [`${fixtures}hbone_server.py`, '--cert', pem.certFile, '--key', pem.keyFile, '--ca', ca, '--idle', '60', ...deny.flatMap((p) => ['--deny', String(p)])], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.#proc.stdout! }).on('line', (l) => {
      this.lines.push(JSON.parse(l) as Json);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** Waits (at most 10 s) for the n-th line. */
  async line(n: number): Promise<Json> {
    const deadline = Date.now() + 10_000;
    while (this.lines.length <= n) {
      if (Date.now() > deadline || this.#proc.exitCode !== null) throw new Error(`python server printed ${this.lines.length} lines: ${JSON.stringify(this.lines)}`);
      await new Promise<void>((r) => (this.#waiters.push(r), setTimeout(r, 200)));
    }
    return this.lines[n]!;
  }

  /** Waits (at most 10 s) for a line that `pred` accepts. */
  async waitFor(pred: (l: Json) => boolean): Promise<Json> {
    for (let n = 0; ; n++) {
      const l = await this.line(n);
      if (pred(l)) return l;
    }
  }

  async port(): Promise<number> {
    return (await this.line(0))['listening'] as number;
  }

  stop(): Promise<void> {
    if (this.#proc.exitCode !== null) return Promise.resolve();
    return new Promise((r) => (this.#proc.once('exit', () => r()), this.#proc.kill()));
  }
}

describe('HBONE interop with Python h2', { skip }, () => {
  let peers: HbonePeers;
  let server: HboneServer;
  let serverPort: number;
  const seen: HboneRequest[] = [];

  before(async () => {
    peers = await hbonePeers();
    server = new HboneServer({
      certificate: peers.workload(peers.server),
      trustDomain: 'cluster.local',
      authorize: (_peer, request) => (seen.push(request), request.destination.port === DENIED_PORT ? 'deny' : 'allow'),
    });
    serverPort = (await server.listen(0)).port;
  });
  after(async () => {
    await server?.close();
    await peers?.close();
  });

  describe('Python client → Trellis server', () => {
    const run = (pem: Pem, args: string[]) => pyClient(pem, peers.pki.ca.certFile, serverPort, args);

    it('tunnels with TLS 1.3 + h2, shows the SPIFFE leaf, and passes forwarded, baggage and traceparent', async () => {
      const out = await run(peers.client, ['--authority', `127.0.0.1:${peers.summarize.port}`, '--send', 'ping',
        '--header', 'forwarded=for="10.9.8.7:5555"', '--header', 'baggage=k8s.pod.name=a', '--header', `traceparent=${TRACEPARENT}`]);
      assert.deepEqual({ tls: out['tls'], alpn: out['alpn'], sans: out['server_uri_sans'], status: out['status'] }, { tls: 'TLSv1.3', alpn: 'h2', sans: [SERVER_ID], status: 200 });
      assert.equal(out['data'], summary(Buffer.from('ping')));
      // ztunnel's HTTP/2 settings as the server sends them: 200 streams, 4 MiB stream window, 1 MiB frames, 64 KiB headers, 16 MiB connection window.
      assert.deepEqual(pick(out['peer_settings'], ['3', '4', '5', '6']), { 3: 200, 4: STREAM_WINDOW, 5: FRAME_SIZE, 6: MAX_HEADER_LIST });
      assert.equal(out['peer_connection_window'], CONNECTION_WINDOW);
      const req = seen.at(-1)!;
      assert.deepEqual(req.forwardedFor, { host: '10.9.8.7', port: 5555 });
      assert.equal(req.baggage, 'k8s.pod.name=a');
      assert.equal(req.traceparent, TRACEPARENT);
    });

    it('answers 400 for an authority that is not IP:port and for a GET, and resets a CONNECT with :path', async () => {
      assert.equal((await run(peers.client, ['--authority', 'example.com:80']))['status'], 400);
      assert.equal((await run(peers.client, ['--authority', `127.0.0.1:${peers.echo.port}`, '--method', 'GET', '--path', '/']))['status'], 400);
      // RFC 9113 §8.5: a CONNECT with :scheme/:path is malformed; nghttp2 resets it (PROTOCOL_ERROR) before any handler.
      const withPath = await run(peers.client, ['--authority', `127.0.0.1:${peers.echo.port}`, '--path', '/']);
      assert.equal(withPath['status'], undefined);
      assert.equal(withPath['reset'], 1);
    });

    it('answers 401 when denied and 503 when the upstream is refused', async () => {
      assert.equal((await run(peers.client, ['--authority', `127.0.0.1:${DENIED_PORT}`]))['status'], 401);
      assert.equal((await run(peers.client, ['--authority', `127.0.0.1:${peers.refusedPort}`]))['status'], 503);
    });

    it('refuses a client of another trust domain', async () => {
      const out = await run(peers.foreign, ['--authority', `127.0.0.1:${peers.echo.port}`]);
      assert.equal(out['status'], undefined);
      assert.equal(out['goaway'], 0xc, `GOAWAY INADEQUATE_SECURITY expected: ${JSON.stringify(out)}`);
    });
  });

  describe('Trellis client → Python server', () => {
    let py: PyServer;
    let pyPort: number;
    let wrongSan: PyServer;
    let client: HboneClient;
    let lines = 1;

    before(async () => {
      py = new PyServer(peers.server, peers.pki.ca.certFile, [DENIED_PORT]);
      wrongSan = new PyServer(peers.pki.leaf(spiffe('ambient', 'reviews')), peers.pki.ca.certFile, []);
      pyPort = await py.port();
      client = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID });
    });
    after(async () => {
      await client?.close();
      await py?.stop();
      await wrongSan?.stop();
    });

    const tunnel = (host: string, port: number, extra: Partial<Parameters<HboneClient['connect']>[0]> = {}) =>
      client.connect({ address: '127.0.0.1', port: pyPort, destination: { host, port }, expectedIdentities: [SERVER_ID], ...extra });

    it('sends exactly :method CONNECT and :authority IP:port, with forwarded, baggage and traceparent, over TLS 1.3 + h2 without SNI', async () => {
      const t = await tunnel('127.0.0.1', peers.summarize.port, { forwardedFor: { host: '10.1.2.3', port: 4567 }, baggage: 'k8s.namespace.name=ambient', traceparent: TRACEPARENT });
      const chunks: Buffer[] = [];
      t.on('data', (d: Buffer) => chunks.push(d));
      const ended = new Promise((r) => t.once('end', r));
      t.end('pong');
      await ended;
      assert.equal(Buffer.concat(chunks).toString(), summary(Buffer.from('pong')));
      const got = await py.line(lines++);
      assert.deepEqual(got['pseudo'], [[':method', 'CONNECT'], [':authority', `127.0.0.1:${peers.summarize.port}`]]);
      assert.deepEqual(got['headers'], { forwarded: 'for="10.1.2.3:4567"', baggage: 'k8s.namespace.name=ambient', traceparent: TRACEPARENT });
      assert.deepEqual({ sni: got['sni'], tls: got['tls'], alpn: got['alpn'], sans: got['peer_uri_sans'] }, { sni: null, tls: 'TLSv1.3', alpn: 'h2', sans: [CLIENT_ID] });
      // The client's side of ztunnel's settings: no push, 100 streams, the same windows and sizes.
      assert.deepEqual(pick(got['peer_settings'], ['2', '3', '4', '5', '6']), { 2: 0, 3: 100, 4: STREAM_WINDOW, 5: FRAME_SIZE, 6: MAX_HEADER_LIST });
      assert.equal(got['peer_connection_window'], CONNECTION_WINDOW);
    });

    it('turns 400, 401 and 503 answers into HboneRefusedError with the status', async () => {
      for (const [host, port, status] of [['example.com', 80, 400], ['127.0.0.1', DENIED_PORT, 401], ['127.0.0.1', peers.refusedPort, 503]] as const) {
        await assert.rejects(tunnel(host, port), (e: unknown) => e instanceof HboneRefusedError && e.status === status);
        assert.equal((await py.line(lines++))['status'], status);
      }
    });

    it('pings an idle connection (ztunnel keepalive; interval shortened here)', async () => {
      const pinging = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID, keepalive: { intervalMs: 50, timeoutMs: 2_000 } });
      try {
        const t = await pinging.connect({ address: '127.0.0.1', port: pyPort, destination: { host: '127.0.0.1', port: peers.echo.port }, expectedIdentities: [SERVER_ID] });
        await py.waitFor((l) => l['ping'] === true);
        t.destroy();
      } finally {
        await pinging.close();
      }
    });

    it('aborts when the server presents the wrong SPIFFE id, before any CONNECT', async () => {
      const port = await wrongSan.port();
      await assert.rejects(tunnel('127.0.0.1', peers.echo.port, { port }), (e: unknown) =>
        (e as { code?: string }).code === 'HBONE_IDENTITY' && (e as Error).message.includes(spiffe('ambient', 'reviews')));
      // Python saw the handshake fail (our abort), and no CONNECT.
      const l = await wrongSan.line(1);
      assert.ok('handshake_error' in l, JSON.stringify(l));
    });
  });
});
