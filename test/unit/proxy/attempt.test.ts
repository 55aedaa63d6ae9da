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
function stream(): HttpStream {
  const stats = { upstream_cx_connect_fail: 0, upstream_rq_rx_reset: 0, upstream_rq_timeout: 0 };
  return {
    req: { method: 'GET', httpVersionMajor: 1, headers: {} },
    info: { upstreamServiceTimeMs: 0 },
    cluster: { plan: { upstreamHttp: 'http1', outlier: undefined }, stats, report: () => undefined },
  } as unknown as HttpStream;
}

describe('router: one attempt', () => {
  let server: http.Server;
  let host: Host;
  let received = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      received++;
      if (req.url !== '/hang') res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = new Host('127.0.0.1', (server.address() as AddressInfo).port, 1, true, { connections: 4, connectTimeoutMs: 1000 });
  });

  after(async () => {
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
