/**
 * router/attempt.ts against a real upstream socket: an attempt whose request
 * signal is already aborted (the client left, or the route timeout fired,
 * before it began) sends nothing upstream — also on a route with a per-try
 * timeout, where the attempt has a signal of its own; and a per-try timeout
 * ends a hanging attempt as 'per-try-timeout'.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { attempt } from '../../../src/proxy/router/attempt.js';
import type { RetryPlan } from '../../../src/proxy/router/route-action.js';
import type { HttpStream } from '../../../src/proxy/filters/stream.js';
import { Abort } from '../../../src/proxy/upstream/abort.js';
import { Host } from '../../../src/proxy/upstream/host.js';

const retry = (perTryTimeoutMs: number): RetryPlan => ({
  numRetries: 1, perTryTimeoutMs, on5xx: true, gatewayError: false, connectFailure: true, reset: true, statusCodes: new Set(), baseMs: 25, maxMs: 250,
});

/** The few fields of a stream an attempt reads: the request line, the cluster's protocol, stats and outlier hook. */
function stream(upstreamHttp: 'http1' | 'http2' = 'http1'): HttpStream {
  const stats = { upstream_cx_connect_fail: 0, upstream_rq_rx_reset: 0, upstream_rq_timeout: 0 };
  return {
    req: { method: 'GET', httpVersionMajor: 1, headers: {} },
    info: { upstreamServiceTimeMs: 0 },
    cluster: { plan: { upstreamHttp, outlier: undefined }, stats, report: () => undefined },
  } as unknown as HttpStream;
}

describe('router: one attempt', { timeout: 20_000 }, () => {
  let server: http.Server;
  let host: Host;
  let received = 0;
  // An HTTP/2 (h2c) upstream: it counts the streams it sees.
  let h2server: http2.Http2Server;
  let h2host: Host;
  let h2streams = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      received++;
      if (req.url !== '/hang') res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = new Host('127.0.0.1', (server.address() as AddressInfo).port, 1, true, { connections: 4, connectTimeoutMs: 1000 });
    h2server = http2.createServer();
    h2server.on('stream', (st) => {
      h2streams++;
      st.respond({ ':status': 200 });
      st.end('ok');
    });
    await new Promise<void>((r) => h2server.listen(0, '127.0.0.1', r));
    h2host = new Host('127.0.0.1', (h2server.address() as AddressInfo).port, 1, true, { connections: 4, connectTimeoutMs: 1000 });
  });

  after(async () => {
    await h2host.close();
    await new Promise((r) => h2server.close(r));
    await host.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  for (const perTry of [0, 5000]) {
    test(`a request signal aborted before the attempt began: nothing is sent (per-try timeout ${perTry ? 'set' : 'unset'})`, async () => {
      received = 0;
      const global = new Abort();
      global.abort();
      const o = await attempt(stream(), host, '/x', { host: 'x' }, undefined, retry(perTry), global);
      assert.equal(o.kind, 'error');
      assert.equal(o.kind === 'error' && o.reason, 'aborted');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(received, 0, 'the upstream saw no request');
      assert.equal(host.active, 0);
    });
  }

  test('HTTP/2 upstream: a request signal aborted before the attempt began opens no stream, with or without a per-try timeout', async () => {
    const live = await attempt(stream('http2'), h2host, '/x', { host: 'x' }, undefined, retry(0), new Abort());
    assert.equal(live.kind, 'response', 'the control: a live signal gets its answer');
    if (live.kind === 'response') live.data.discard();
    const before = h2streams;
    for (const perTry of [0, 5000]) {
      const global = new Abort();
      global.abort();
      const o = await attempt(stream('http2'), h2host, '/x', { host: 'x' }, undefined, retry(perTry), global);
      assert.equal(o.kind === 'error' && o.reason, 'aborted');
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h2streams, before, 'no stream reached the upstream');
    assert.equal(h2host.active, 0);
  });

  test('a listener added to a spent Abort runs at once; one added before runs once, at the abort', () => {
    const a = new Abort();
    let early = 0;
    a.once('abort', () => early++);
    a.abort();
    a.abort();
    let late = 0;
    a.once('abort', () => late++);
    assert.deepEqual([early, late], [1, 1]);
  });

  test('a live signal: the answer comes back; a hanging upstream ends at the per-try timeout', async () => {
    const ok = await attempt(stream(), host, '/x', { host: 'x' }, undefined, retry(5000), new Abort());
    assert.equal(ok.kind, 'response');
    if (ok.kind === 'response') ok.data.discard();
    const t0 = Date.now();
    const hung = await attempt(stream(), host, '/hang', { host: 'x' }, undefined, retry(100), new Abort());
    assert.equal(hung.kind === 'error' && hung.reason, 'per-try-timeout');
    assert.ok(Date.now() - t0 < 2000);
  });
});
