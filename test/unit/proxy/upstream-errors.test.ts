/**
 * Upstream failures are Trellis's own errors (src/proxy/upstream/errors.ts)
 * from both clients, and the retry policy reads them: a refused connection
 * is UPSTREAM_CONNECT_FAILED (the errno as its cause) on HTTP/1.1 and
 * HTTP/2 alike, a connection the server drops after the request is
 * UPSTREAM_RESET.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TrellisError } from '../../../src/errors.js';
import { Abort } from '../../../src/proxy/upstream/abort.js';
import { H1Pool } from '../../../src/proxy/upstream/h1/pool.js';
import { H2Client } from '../../../src/proxy/upstream/h2-client.js';
import { classifyError } from '../../../src/proxy/router/retry.js';
import { freePort } from '../../helpers/ports.js';
import { connectFailureDetails } from '../../../src/proxy/upstream/errors.js';

const get = { path: '/', method: 'GET', headers: { host: 'x' }, body: undefined };

test('a refused connection is UPSTREAM_CONNECT_FAILED on both clients, and a connect failure for retries', async () => {
  const port = await freePort(); // nothing listens there
  const pool = new H1Pool({ address: '127.0.0.1', port, connections: 1, connectTimeoutMs: 1000 });
  const h2 = new H2Client(`http://127.0.0.1:${port}`, 1000);
  try {
    for (const p of [pool.exchange(get, new Abort()), h2.request(get, new Abort())]) {
      const err = await p.then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TrellisError, String(err));
      assert.equal(err.code, 'UPSTREAM_CONNECT_FAILED');
      assert.equal(classifyError(err), 'connect-failure');
      // Envoy's response code details for it: the reset reason and the socket's errno (111 = ECONNREFUSED).
      assert.equal(connectFailureDetails(err), 'upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}');
    }
  } finally {
    pool.close();
    h2.close();
  }
});

test('a connection closed before the response is UPSTREAM_RESET, a reset for retries', async () => {
  const server = net.createServer((s) => s.once('data', () => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const pool = new H1Pool({ address: '127.0.0.1', port, connections: 1, connectTimeoutMs: 1000 });
  try {
    const err = await pool.exchange(get, new Abort()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof TrellisError, String(err));
    assert.equal(err.code, 'UPSTREAM_RESET');
    assert.equal(classifyError(err), 'reset');
  } finally {
    pool.close();
    await new Promise((r) => server.close(r));
  }
});
