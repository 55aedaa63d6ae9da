/**
 * Issue 12: oversized and slow requests against the real proxy binary. Each
 * case ends in a clear 4xx or a closed connection within its timeout, the
 * proxy keeps serving a normal client afterwards, and its memory stays far
 * below what the attack sent (RSS from /proc, with a generous bound: the
 * point is "bounded", not a figure). Limits are Envoy's: 60 KiB request
 * heads (431), request_headers_timeout and stream_idle_timeout (408); a body
 * too large to keep for a retry or a mirror is streamed once instead
 * (Envoy's retry_or_shadow_abandoned), never held whole.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { sendRaw, statusOf } from '../../helpers/malformed-requests.js';
import { eventually } from './harness.js';
import { ms, prefixRoute } from './xds-builders.js';
import { h2Get, rssSettles, startHostileFixture, type HostileFixture } from './hostile-fixture.js';

const HEADERS_TIMEOUT_MS = 800;
const IDLE_TIMEOUT_MS = 1200;
const MiB = 1024 * 1024;

/** A body of `size` bytes produced in 64 KiB pieces, never held whole by the client either. */
async function* bodyOf(size: number): AsyncGenerator<Buffer> {
  const piece = Buffer.alloc(64 * 1024, 98);
  for (let left = size; left > 0; left -= piece.length) yield left >= piece.length ? piece : piece.subarray(0, left);
}

/** A connection that sends `head` and then never finishes: what comes back, and when it closed (ms), or -1. */
function stalled(port: number, head: string, drip: string | undefined, limitMs: number): Promise<{ status: number; closedAfter: number }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const t0 = Date.now();
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    const done = (closedAfter: number) => {
      clearInterval(timer);
      clearTimeout(stop);
      s.destroy();
      resolve({ status: statusOf({ data, closed: true }), closedAfter });
    };
    const stop = setTimeout(() => done(-1), limitMs);
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    s.on('close', () => done(Date.now() - t0));
    s.on('connect', () => {
      s.write(head);
      // A slowloris: one more header byte now and then, never the empty line.
      if (drip) timer = setInterval(() => { if (!s.destroyed) s.write(drip); }, 100);
    });
  });
}

describe('proxy: oversized and slow requests', () => {
  let f: HostileFixture;

  before(async () => {
    f = await startHostileFixture({
      hcm: { requestHeadersTimeout: ms(HEADERS_TIMEOUT_MS), streamIdleTimeout: ms(IDLE_TIMEOUT_MS) },
      routes: [
        prefixRoute('/retry/', 'echo', { retryPolicy: { retryOn: '5xx,reset', numRetries: 2 } }),
        prefixRoute('/mirror/', 'echo', { requestMirrorPolicies: [{ cluster: 'echo' }] }),
      ],
    });
    await f.alive();
  });

  after(async () => {
    await f?.stop();
  });

  describe('request heads (60 KiB, Envoy\'s max_request_headers_kb)', () => {
    const head = (extra: string) => Buffer.from(`GET /big-head HTTP/1.1\r\nhost: x\r\n${extra}\r\n`, 'latin1');

    test('90 headers of 700 bytes (63 KB in all): 431, closed, nothing upstream', async () => {
      f.resetCounts();
      const reply = await sendRaw('127.0.0.1', f.port, head(Array.from({ length: 90 }, (_, i) => `x-h${i}: ${'v'.repeat(700)}\r\n`).join('')));
      assert.equal(statusOf(reply), 431, reply.data.slice(0, 100));
      assert.ok(reply.closed);
      assert.equal(f.counts.started, 0);
      await f.alive();
    });

    test('a request line of 70 KB: 431', async () => {
      const reply = await sendRaw('127.0.0.1', f.port, Buffer.from(`GET /${'p'.repeat(70 * 1024)} HTTP/1.1\r\nhost: x\r\n\r\n`));
      assert.equal(statusOf(reply), 431, reply.data.slice(0, 100));
      assert.ok(reply.closed);
      await f.alive();
    });

    test('a head growing past 60 KiB in 4 KiB pieces is refused as it grows, not when it ends', async () => {
      const pieces = [Buffer.from('GET /growing HTTP/1.1\r\nhost: x\r\n'), ...Array.from({ length: 18 }, (_, i) => Buffer.from(`x-${String(i).padStart(3, '0')}: ${'g'.repeat(4089)}\r\n`))];
      const reply = await sendRaw('127.0.0.1', f.port, pieces, 5000);
      assert.equal(statusOf(reply), 431);
      assert.ok(reply.closed);
      await f.alive();
    });

    test('a head just under the limit (58 KiB) passes', async () => {
      const reply = await sendRaw('127.0.0.1', f.port, head(`x-big: ${'u'.repeat(58 * 1024)}\r\nconnection: close\r\n`));
      assert.equal(statusOf(reply), 200, reply.data.slice(0, 100));
    });

    test('HTTP/2: a header list over 60 KiB (90 fields) is refused, the connection and proxy stay usable', async () => {
      f.resetCounts();
      const client = http2.connect(`http://127.0.0.1:${f.port}`);
      client.on('error', () => undefined);
      // The limit is a SETTINGS value: in force once the client has the server's SETTINGS (and acknowledged them).
      await new Promise((r) => client.once('remoteSettings', r));
      assert.equal(client.remoteSettings.maxHeaderListSize, 60 * 1024);
      const extra: Record<string, string> = {};
      for (let i = 0; i < 90; i++) extra[`x-h${i}`] = 'v'.repeat(700);
      const outcome = await new Promise<string>((resolve) => {
        const req = client.request({ ':path': '/h2-big-head', ...extra });
        req.on('response', (h) => resolve(`status ${String(h[':status'])}`));
        req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
        req.on('close', () => resolve(`reset ${req.rstCode ?? ''}`));
        req.end();
      });
      client.destroy();
      // Either a 431 or a reset stream: never the backend.
      assert.ok(/^status 431$|^reset|^error/.test(outcome), outcome);
      assert.equal(f.counts.started, 0);
      await f.alive();
    });
  });

  describe('request bodies', () => {
    test('64 MiB to a route with retries: the retry is given up and the body streamed (200), memory far below the body', async () => {
      f.resetCounts();
      const base = f.rssKiB();
      const abandoned = await f.stat('cluster.echo.retry_or_shadow_abandoned');
      const r = await request(`http://127.0.0.1:${f.port}/retry/upload`, { method: 'POST', body: Readable.from(bodyOf(64 * MiB)), signal: AbortSignal.timeout(20_000) });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), String(64 * MiB), 'the backend got every byte');
      assert.equal(await f.stat('cluster.echo.retry_or_shadow_abandoned'), abandoned + 1);
      await rssSettles(f, base, 40 * 1024, '64 MiB upload');
      await f.alive();
    });

    test('a body under the retry buffer (512 KiB) is still buffered: no retry given up', async () => {
      const abandoned = await f.stat('cluster.echo.retry_or_shadow_abandoned');
      const r = await request(`http://127.0.0.1:${f.port}/retry/small`, { method: 'POST', body: Buffer.alloc(512 * 1024, 99) });
      assert.equal(await r.body.text(), String(512 * 1024));
      assert.equal(await f.stat('cluster.echo.retry_or_shadow_abandoned'), abandoned);
    });

    test('8 MiB to a mirrored route: the mirror is given up, the request passes once', async () => {
      f.resetCounts();
      const r = await request(`http://127.0.0.1:${f.port}/mirror/upload`, { method: 'POST', body: Readable.from(bodyOf(8 * MiB)) });
      assert.equal(await r.body.text(), String(8 * MiB));
      await eventually(() => f.counts.completed === 1, 2000, 'the one request completed');
      assert.equal(f.counts.started, 1, 'no mirrored copy');
    });

    test('HTTP/2: 32 MiB upload without retries streams through with bounded memory', async () => {
      const base = f.rssKiB();
      const client = http2.connect(`http://127.0.0.1:${f.port}`);
      try {
        const text = await new Promise<string>((resolve, reject) => {
          const req = client.request({ ':method': 'POST', ':path': '/h2-upload' });
          let out = '';
          req.setEncoding('utf8');
          req.on('data', (c: string) => { out += c; });
          req.on('end', () => resolve(out));
          req.on('error', reject);
          void (async () => {
            for await (const c of bodyOf(32 * MiB)) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
            req.end();
          })();
        });
        assert.equal(text, String(32 * MiB));
      } finally {
        client.close();
      }
      await rssSettles(f, base, 40 * 1024, '32 MiB HTTP/2 upload');
    });

    test('a body that stops arriving halfway (content-length 1 GB, 1 MiB sent): 408 at stream_idle_timeout, upstream aborted', async () => {
      f.resetCounts();
      const s = net.connect(f.port, '127.0.0.1');
      s.on('error', () => undefined);
      let data = '';
      s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      s.write(`POST /stall HTTP/1.1\r\nhost: x\r\ncontent-length: ${1 << 30}\r\n\r\n`);
      s.write(Buffer.alloc(MiB, 97));
      await Promise.race([closed, new Promise((r) => setTimeout(r, IDLE_TIMEOUT_MS * 4))]);
      s.destroy();
      assert.equal(statusOf({ data, closed: true }), 408);
      await eventually(() => f.counts.aborted === 1 && f.counts.open === 0, 3000, 'the upstream request aborted');
      await f.alive();
    });
  });

  describe('slow clients, many at once', () => {
    const N = 200;

    test(`${N} slowloris heads (a byte every 100 ms): each 408 at request_headers_timeout, others served meanwhile`, async () => {
      const fds0 = f.fds();
      const t0 = Date.now();
      const all = Promise.all(Array.from({ length: N }, (_, i) => stalled(f.port, `GET /loris/${i} HTTP/1.1\r\nhost: x\r\nx-a: `, 'a', HEADERS_TIMEOUT_MS * 6)));
      await new Promise((r) => setTimeout(r, HEADERS_TIMEOUT_MS / 2));
      assert.equal(await h2Get(f.port, '/while-loris'), 200, 'a normal client is served during the attack');
      const results = await all;
      const late = results.filter((r) => r.closedAfter < 0);
      assert.deepEqual(late, [], 'every slow head was closed');
      assert.deepEqual([...new Set(results.map((r) => r.status))], [408]);
      assert.ok(Date.now() - t0 < HEADERS_TIMEOUT_MS * 6);
      await f.alive();
      await eventually(() => f.fds() <= fds0 + 5, 3000, 'descriptors released');
    });

    test(`${N} stalled bodies: each 408 at stream_idle_timeout, every upstream request aborted`, async () => {
      f.resetCounts();
      const results = await Promise.all(Array.from({ length: N }, (_, i) => stalled(f.port, `POST /stalled/${i} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nfirst bytes`, undefined, IDLE_TIMEOUT_MS * 6)));
      assert.deepEqual(results.filter((r) => r.closedAfter < 0), []);
      assert.deepEqual([...new Set(results.map((r) => r.status))], [408]);
      await eventually(() => f.counts.open === 0, 3000, 'no upstream request left open');
      assert.equal(await f.stat('cluster.echo.upstream_rq_active'), 0);
      await f.alive();
    });

    test(`${N} clients that do not read a 128 MiB response: ended at stream_idle_timeout, upstream aborted, memory bounded`, async () => {
      f.resetCounts();
      const base = f.rssKiB();
      const sockets = Array.from({ length: N }, () => {
        const s = net.connect(f.port, '127.0.0.1');
        s.on('error', () => undefined);
        s.on('connect', () => { s.write('GET /big/134217728 HTTP/1.1\r\nhost: x\r\n\r\n'); s.pause(); });
        return s;
      });
      try {
        await eventually(() => f.counts.started === N, 5000, 'all requests upstream');
        await eventually(() => f.counts.open === 0, IDLE_TIMEOUT_MS * 6, 'the stalled responses ended and their upstream requests aborted');
        assert.equal(f.counts.aborted, N);
      } finally {
        for (const s of sockets) s.destroy();
      }
      // 200 × 128 MiB were asked for; what the proxy holds is bounded by back-pressure, per connection.
      await rssSettles(f, base, 100 * 1024, 'stalled readers');
      await f.alive();
    });
  });
});

describe("proxy: the listener's own max_request_headers_kb", () => {
  test('8 KiB configured: a 10 KB head gets 431, a 6 KB one passes; HTTP/2 advertises 8 KiB', async () => {
    const f = await startHostileFixture({ hcm: { maxRequestHeadersKb: 8 } });
    try {
      const head = (n: number) => Buffer.from(`GET /kb HTTP/1.1\r\nhost: x\r\nx-pad: ${'k'.repeat(n)}\r\nconnection: close\r\n\r\n`);
      assert.equal(statusOf(await sendRaw('127.0.0.1', f.port, head(10_000))), 431);
      assert.equal(statusOf(await sendRaw('127.0.0.1', f.port, head(6_000))), 200);
      const client = http2.connect(`http://127.0.0.1:${f.port}`);
      client.on('error', () => undefined);
      await new Promise((r) => client.once('remoteSettings', r));
      assert.equal(client.remoteSettings.maxHeaderListSize, 8 * 1024);
      client.destroy();
      await f.alive();
    } finally {
      await f.stop();
    }
  });
});
