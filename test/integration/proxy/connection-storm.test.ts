/**
 * Issue 12: connection storms against the real proxy binary — thousands of
 * connects in bursts past the listen backlog, connections opened and dropped
 * at once, thousands held idle, HTTP/2 connections dropped mid-request. The
 * proxy must keep serving a normal client during and after each, close what
 * it holds once the timeouts say so, give back every descriptor, and not grow
 * from one storm to the next.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { spiffe, TestPki } from '../../helpers/pki.js';
import { caSecret, certSecret, withDownstreamMtls } from './tls-builders.js';
import { eventually } from './harness.js';
import { httpListener, ms } from './xds-builders.js';
import { h2Get, rssSettles, startHostileFixture, type HostileFixture } from './hostile-fixture.js';
import { RawH2, requestHeaders } from '../../helpers/h2-raw.js';

const IDLE_TIMEOUT_MS = 5000;
/** Connections opened at once in a burst (the proxy's listen backlog is 1,024). */
const BURST = 500;

/** Opens a connection; resolves with the socket once connected, or with the error code. */
function connect(port: number): Promise<net.Socket | string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.once('connect', () => resolve(s));
  });
}

/** One HTTP/1.1 request with connection: close on a new connection; resolves with the status line's code, or the error. */
function oneShot(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, 15_000);
    s.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(t); resolve(e.code ?? 'error'); });
    s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    s.on('close', () => { clearTimeout(t); resolve(data.slice(9, 12) || 'closed'); });
    s.once('connect', () => s.write('GET /storm HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
  });
}

/** `total` connections opened `BURST` at a time and dropped by the client at once; returns the connect errors. */
async function connectAndDrop(port: number, total: number): Promise<string[]> {
  const errors: string[] = [];
  for (let done = 0; done < total; done += BURST) {
    const round = await Promise.all(Array.from({ length: Math.min(BURST, total - done) }, () => connect(port)));
    for (const s of round) {
      if (typeof s === 'string') errors.push(s);
      else s.destroy();
    }
  }
  return errors;
}

function tally(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

describe('proxy: connection storms', () => {
  let f: HostileFixture;
  let fds0 = 0;

  before(async () => {
    f = await startHostileFixture({ hcm: { streamIdleTimeout: ms(IDLE_TIMEOUT_MS), requestHeadersTimeout: ms(1000) } });
    await f.alive();
    fds0 = f.fds();
  });

  after(async () => {
    await f?.stop();
  });

  /** Descriptors back to the baseline, allowing for upstream keep-alive connections the storm's requests opened. */
  const descriptorsReleased = (slack: number, withinMs: number) => eventually(() => f.fds() <= fds0 + slack, withinMs, `descriptors back near ${fds0} (now ${f.fds()})`);

  test('5,000 connections opened and dropped by the client: every descriptor given back, still serving', async () => {
    const errors = await connectAndDrop(f.port, 5000);
    assert.deepEqual(tally(errors), {});
    await f.alive();
    // Before issue 12 a peer that closed before its first byte was held until the idle timeout.
    await descriptorsReleased(10, IDLE_TIMEOUT_MS - 1000);
  });

  /**
   * 2,000 one-shot requests at once; each must be answered: 200, or 503 from the cluster's circuit breaker
   * (Envoy's default of 1,024 requests at once) — never a reset, a timeout or silence.
   */
  async function burst(): Promise<void> {
    const overflow0 = await f.stat('cluster.echo.upstream_rq_pending_overflow');
    const t = tally(await Promise.all(Array.from({ length: 2000 }, () => oneShot(f.port))));
    assert.deepEqual(Object.keys(t).filter((k) => k !== '200' && k !== '503'), [], JSON.stringify(t));
    assert.equal((await f.stat('cluster.echo.upstream_rq_pending_overflow')) - overflow0, t['503'] ?? 0, 'every 503 is the circuit breaker');
    assert.ok((t['200'] ?? 0) >= 1024, JSON.stringify(t));
  }

  test('2,000 requests, each on a new connection, all at once: every one answered', async () => {
    await burst();
    await f.alive();
  });

  test('2,000 idle connections held: a normal client is served meanwhile, the proxy closes them at the idle timeout', async () => {
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        for (const s of await Promise.all(Array.from({ length: BURST }, () => connect(f.port)))) {
          assert.ok(typeof s !== 'string', `connect failed: ${String(s)}`);
          held.push(s);
        }
      }
      assert.equal(await h2Get(f.port, '/while-held'), 200);
      await f.alive();
      const closed = held.map((s) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r()))));
      const all = await Promise.race([Promise.all(closed).then(() => true), new Promise<false>((r) => setTimeout(() => r(false), IDLE_TIMEOUT_MS * 2))]);
      assert.ok(all, `${held.filter((s) => !s.destroyed).length} connections still open after ${IDLE_TIMEOUT_MS * 2} ms`);
    } finally {
      for (const s of held) s.destroy();
    }
    await descriptorsReleased(10 + 2000 / 4, 5000);
  });

  test('1,000 HTTP/2 connections dropped right after their first request: nothing left open upstream', async () => {
    f.resetCounts();
    for (let done = 0; done < 1000; done += 250) {
      await Promise.all(Array.from({ length: 250 }, async () => {
        const c = new RawH2(f.port);
        await c.ready().catch(() => undefined);
        await c.write(requestHeaders(1, '/slow/dropped'));
        c.destroy();
      }));
    }
    await f.alive();
    await eventually(() => f.counts.open === 0, 3000, 'upstream requests of dropped connections ended');
    await eventually(async () => (await f.stat('cluster.echo.upstream_rq_active')) === 0, 3000, 'circuit breaker slots released');
  });

  test('the same storms again: memory where the first round left it', async () => {
    const base = f.rssKiB();
    assert.deepEqual(tally(await connectAndDrop(f.port, 5000)), {});
    await burst();
    // 7,000 connections per round: 32 MiB still catches a leak of ~5 KiB per connection; 20 MiB was within V8's
    // heap-sizing noise on a loaded CI machine (one run grew 21 MiB and settled later).
    await rssSettles(f, base, 32 * 1024, 'a second round of storms');
    await f.alive();
  });
});

describe('proxy: TLS handshakes abandoned by the client', () => {
  const pki = new TestPki();
  let f: HostileFixture;
  let tlsPort = 0;

  before(async () => {
    const server = pki.leaf(spiffe('default', 'storm-server'));
    f = await startHostileFixture({
      resources: [
        [TypeUrl.Listener, 'tls', withDownstreamMtls(httpListener('tls', 'routes', 0), { requireClientCert: false })],
        [TypeUrl.Secret, 'default', certSecret('default', server)],
        [TypeUrl.Secret, 'ROOTCA', caSecret('ROOTCA', pki.ca.cert)],
      ],
    });
    tlsPort = await f.proxy.listenerPort('tls');
  });

  after(async () => {
    await f?.stop();
    pki.remove();
  });

  /** A TLS client that refuses the server's certificate (as a sidecar does on a SAN mismatch): alert, FIN. */
  const refuse = () => new Promise<void>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: tlsPort, ca: pki.ca.cert, checkServerIdentity: () => new Error('not the SAN we want') });
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    setTimeout(() => s.destroy(), 5000).unref();
  });

  test('1,000 clients that refuse the server certificate: each connection closed at once, not at the 10 s handshake timeout', async () => {
    const fds0 = f.fds();
    for (let i = 0; i < 4; i++) await Promise.all(Array.from({ length: 250 }, refuse));
    // Before issue 12 the proxy's side stayed open until its handshake timeout (10 s).
    await eventually(() => f.fds() <= fds0 + 10, 4000, `descriptors back near ${fds0} (now ${f.fds()})`);
    await f.alive();
  });
});

describe('proxy: at its descriptor limit', () => {
  let f: HostileFixture;

  before(async () => {
    f = await startHostileFixture({ hcm: { streamIdleTimeout: ms(30_000) } });
    await f.alive();
    // No connection limit is configured (Envoy has none by default): the process's RLIMIT_NOFILE is the bound.
    execFileSync('prlimit', ['--pid', String(f.proxy.proc.pid), '--nofile=200:200']);
  });

  after(async () => {
    await f?.stop();
  });

  test('400 connections against a limit of 200 descriptors: those past it are dropped, the proxy lives and serves again once they go', async () => {
    const held = (await Promise.all(Array.from({ length: 400 }, () => connect(f.port)))).filter((s): s is net.Socket => typeof s !== 'string');
    try {
      await eventually(() => held.filter((s) => s.destroyed || s.readableEnded).length >= 150, 5000, 'connections past the limit dropped');
      assert.ok(f.fds() <= 205, `${f.fds()} descriptors`);
      assert.equal(f.proxy.proc.exitCode, null);
    } finally {
      for (const s of held) s.destroy();
    }
    await eventually(() => f.fds() < 60, 5000, 'descriptors released');
    await f.alive();
  });
});
