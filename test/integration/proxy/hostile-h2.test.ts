/**
 * Issue 12: HTTP/2 floods against the real proxy binary, sent as raw frames
 * (test/helpers/h2-raw.ts) — what a hostile client sends, not what node's
 * client would. Rapid reset (CVE-2023-44487), SETTINGS, PING and CONTINUATION
 * floods (CVE-2019-9515, CVE-2019-9512, CVE-2024-27316), more streams than
 * allowed, a response stalled on a zero flow-control window, oversized
 * header blocks. Each ends with the connection closed (or the stream reset)
 * in bounded time, a bounded number of requests sent upstream and none left
 * open, memory bounded, and the proxy serving a normal client afterwards.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { eventually } from './harness.js';
import { ms } from './xds-builders.js';
import { rssSettles, startHostileFixture, type HostileFixture } from './hostile-fixture.js';
import { ErrorCode, Flag, frame, FrameType, headerBlock, pingFrame, RawH2, requestHeaders, rstFrame, settingsFrame } from '../../helpers/h2-raw.js';

const IDLE_TIMEOUT_MS = 1500;

/**
 * Writes frames from `make` in batches until the server closes the connection, `max` frames were sent or
 * `ms` passed; returns how many were sent.
 */
async function flood(c: RawH2, make: (i: number) => Buffer, max: number, batch = 200, timeMs = 8000): Promise<number> {
  const t0 = Date.now();
  let n = 0;
  while (n < max && !c.closed && Date.now() - t0 < timeMs) {
    const frames: Buffer[] = [];
    for (let i = 0; i < batch; i++) frames.push(make(n++));
    // A client that does not read stalls its own writes once the buffers fill: bounded by the time left.
    await Promise.race([c.write(Buffer.concat(frames)), new Promise((r) => setTimeout(r, 200))]);
  }
  return n;
}

describe('proxy: hostile HTTP/2 clients', () => {
  let f: HostileFixture;

  before(async () => {
    f = await startHostileFixture({ hcm: { streamIdleTimeout: ms(IDLE_TIMEOUT_MS) } });
    await f.alive();
  });

  after(async () => {
    await f?.stop();
  });

  test('rapid reset: the connection is closed after a bounded number of streams, none left open upstream', async (t) => {
    // Warm upstream connections: a request then goes out at once, before its reset is read.
    await Promise.all(Array.from({ length: 20 }, () => f.alive()));
    f.resetCounts();
    const base = f.rssKiB();
    const premature = await f.stat('http.http.downstream_rq_too_many_premature_resets');
    let total = 0;
    for (let conn = 0; conn < 3; conn++) {
      const c = new RawH2(f.port);
      await c.ready();
      const sent = await flood(c, (i) => Buffer.concat([requestHeaders(2 * i + 1, '/slow/reset'), rstFrame(2 * i + 1)]), 20_000, 100);
      assert.ok(await c.closedWithin(5000), `connection ${conn} still open after ${sent} streams`);
      total += sent;
      c.destroy();
    }
    t.diagnostic(`${total} streams sent on 3 connections, ${f.counts.started} reached the backend, RSS ${base} → ${f.rssKiB()} KiB`);
    assert.ok(await f.stat('http.http.downstream_rq_too_many_premature_resets') > premature, 'closed by the premature reset check');
    // Envoy's check closes at 250 premature resets; nghttp2's own limiter at a burst of 1,000.
    assert.ok(f.counts.started <= 3 * 1000, `${f.counts.started} requests upstream for ${total} streams`);
    await eventually(() => f.counts.open === 0, 3000, 'no upstream request left open');
    await eventually(async () => (await f.stat('cluster.echo.upstream_rq_active')) === 0, 3000, 'circuit breaker slots released');
    await rssSettles(f, base, 60 * 1024, 'rapid reset');
    await f.alive();
  });

  test('a well-behaved client that cancels requests (before and after the response began) lets each upstream request go', async () => {
    f.resetCounts();
    const client = http2.connect(`http://127.0.0.1:${f.port}`);
    client.on('error', () => undefined);
    try {
      const cancel = (path: string, when: 'response' | 'soon') => new Promise<void>((resolve) => {
        const req = client.request({ ':path': path });
        req.on('error', () => undefined);
        req.on('close', () => resolve());
        if (when === 'response') req.on('response', () => req.close(http2.constants.NGHTTP2_CANCEL));
        else setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 50);
        req.end();
      });
      for (let round = 0; round < 5; round++) {
        await Promise.all([
          ...Array.from({ length: 20 }, () => cancel('/big/8388608', 'response')),
          ...Array.from({ length: 20 }, () => cancel('/slow/cancelled', 'soon')),
        ]);
      }
      assert.equal(client.destroyed, false, 'cancelling is no abuse: the connection stays');
    } finally {
      client.destroy();
    }
    await eventually(() => f.counts.open === 0, 3000, () => `every upstream request ended: ${f.describe()}`);
    // Every request that reached the backend was aborted there, none ran to its end (the slow backend answers after
    // 5 s, the big responses are cancelled at their headers); a few cancelled early never left the proxy.
    assert.equal(f.counts.completed, 0, f.describe());
    assert.ok(f.counts.aborted >= 100 && f.counts.aborted === f.counts.started, f.describe());
    assert.equal(await f.stat('cluster.echo.upstream_rq_active'), 0);
    await f.alive();
  });

  test('a client slow to send its HTTP/2 preface (past detection\'s 100 ms) is still served HTTP/2, not answered as HTTP/1.1', async () => {
    const socket = net.connect(f.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    await new Promise((r) => setTimeout(r, 400));
    const client = http2.connect(`http://127.0.0.1:${f.port}`, { createConnection: () => socket });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        client.once('error', reject);
        const req = client.request({ ':path': '/late-preface' });
        req.once('error', reject);
        req.once('response', (h) => resolve(Number(h[':status'])));
        req.end();
      });
      assert.equal(status, 200);
    } finally {
      client.destroy();
    }
  });

  for (const c of [
    { name: 'SETTINGS', make: () => settingsFrame([[4, 65535]]) },
    { name: 'PING', make: (i: number) => pingFrame(i) },
  ]) {
    test(`${c.name} flood from a client that reads nothing: the connection is closed, memory bounded`, async () => {
      const base = f.rssKiB();
      const h = new RawH2(f.port);
      await h.ready();
      h.socket.pause();
      await flood(h, c.make, 200_000, 1000);
      assert.ok(await h.closedWithin(5000), 'closed');
      h.destroy();
      await rssSettles(f, base, 30 * 1024, `${c.name} flood`);
      await f.alive();
    });
  }

  for (const c of [
    { name: 'new header fields', fields: (i: number) => headerBlock([[`x-c${i}`, 'v'.repeat(100)]]) },
    { name: 'empty frames', fields: () => Buffer.alloc(0) },
  ]) {
    test(`CONTINUATION flood (${c.name}, never END_HEADERS): closed, nothing upstream, memory bounded`, async () => {
      f.resetCounts();
      const base = f.rssKiB();
      const h = new RawH2(f.port);
      await h.ready();
      const first = frame(FrameType.HEADERS, Flag.END_STREAM, 1, headerBlock([[':method', 'GET'], [':scheme', 'http'], [':path', '/cont'], [':authority', 'x']]));
      await flood(h, (i) => (i === 0 ? first : frame(FrameType.CONTINUATION, 0, 1, c.fields(i))), 100_000, 500);
      assert.ok(await h.closedWithin(5000), 'closed');
      h.destroy();
      assert.equal(f.counts.started, 0);
      await rssSettles(f, base, 30 * 1024, 'CONTINUATION flood');
      await f.alive();
    });
  }

  test('more streams than SETTINGS_MAX_CONCURRENT_STREAMS (100): at most 100 reach the backend at once', async () => {
    f.resetCounts();
    const h = new RawH2(f.port);
    await h.ready();
    await eventually(() => h.count(FrameType.SETTINGS) > 0, 2000, 'server SETTINGS');
    // Bodies that never end: each open stream holds its upstream request open.
    await flood(h, (i) => requestHeaders(2 * i + 1, '/slow/held', { method: 'POST', endStream: false }), 300, 100);
    await eventually(() => f.counts.started >= 100 || h.closed, 3000, 'streams upstream');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(f.counts.maxOpen <= 100, `${f.counts.maxOpen} upstream requests open at once`);
    const refused = h.frames.filter((x) => x.type === FrameType.RST_STREAM).length;
    assert.ok(refused > 0 || h.goaway() !== undefined, 'the extra streams were refused');
    await f.alive();
    h.destroy();
    await eventually(() => f.counts.open === 0, 3000, 'upstream requests of the closed connection ended');
  });

  test('a response stalled on a zero window, with PINGs keeping the connection busy: the stream is reset at stream_idle_timeout and its upstream request aborted', async () => {
    f.resetCounts();
    const h = new RawH2(f.port, [[4, 0]]); // SETTINGS_INITIAL_WINDOW_SIZE = 0
    await h.ready();
    await h.write(requestHeaders(1, '/big/16777216'));
    const t0 = Date.now();
    let resetAfter = -1;
    for (let i = 0; i < 40 && resetAfter < 0 && !h.closed; i++) {
      await new Promise((r) => setTimeout(r, 200));
      await h.write(pingFrame(i));
      if (h.frames.some((x) => x.type === FrameType.RST_STREAM && x.stream === 1)) resetAfter = Date.now() - t0;
    }
    h.destroy();
    assert.ok(resetAfter >= IDLE_TIMEOUT_MS * 0.9 || h.closed, `reset after ${resetAfter} ms`);
    assert.ok(resetAfter >= 0 || h.closed, 'the stream was reset (or the connection closed)');
    await eventually(() => f.counts.aborted === 1 && f.counts.open === 0, 3000, 'upstream request aborted');
    await f.alive();
  });

  test('a header field over 64 KiB: the connection is refused (GOAWAY), nothing upstream', async () => {
    f.resetCounts();
    const h = new RawH2(f.port);
    await h.ready();
    const block = headerBlock([[':method', 'GET'], [':scheme', 'http'], [':path', '/huge'], [':authority', 'x'], ['x-huge', 'h'.repeat(100_000)]]);
    const frames: Buffer[] = [];
    for (let o = 0; o < block.length; o += 16384) {
      const last = o + 16384 >= block.length;
      frames.push(frame(o === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, (o === 0 ? Flag.END_STREAM : 0) | (last ? Flag.END_HEADERS : 0), 1, block.subarray(o, o + 16384)));
    }
    await h.write(Buffer.concat(frames));
    await eventually(() => h.goaway() !== undefined || h.closed, 3000, 'GOAWAY');
    const g = h.goaway();
    assert.ok(!g || g.code !== ErrorCode.NO_ERROR, `GOAWAY ${JSON.stringify(g)}`);
    h.destroy();
    assert.equal(f.counts.started, 0);
    await f.alive();
  });
});
