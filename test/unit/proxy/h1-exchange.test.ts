import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { H1Pool } from '../../../src/proxy/upstream/h1/pool.js';
import { Abort } from '../../../src/proxy/upstream/abort.js';
import { writeBigBody, writeTrickle } from '../../helpers/test-bodies.js';
import { collect, destroyMidBody } from '../../helpers/upstream-body.js';

const BIG = 1024 * 1024;

/** The upstream exchange's body contract (early chunks, back-pressure, destroy), on the proxy's HTTP/1.1 pool. */
describe('upstream HTTP/1.1 exchange', () => {
  let server: http.Server;
  let pool: H1Pool;
  const get = (path: string, signal = new Abort()) => pool.exchange({ path, method: 'GET', headers: { host: 'x' }, body: undefined }, signal);

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/big') {
        writeBigBody(res, BIG);
      } else if (req.url === '/cookies') {
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end('ok');
      } else if (req.url === '/hang') {
        // never answers
      } else if (req.url === '/trickle') {
        writeTrickle(res);
      } else res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    pool = new H1Pool({ address: '127.0.0.1', port: (server.address() as AddressInfo).port, connections: 2, connectTimeoutMs: 1000 });
  });

  after(async () => {
    pool.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('a 1 MiB body reaches a slow sink whole, with one end', async () => {
    const r = await get('/big');
    assert.equal(r.statusCode, 200);
    const { bytes, ends, error } = await collect(r, true);
    assert.deepEqual({ bytes, ends, error }, { bytes: BIG, ends: 1, error: undefined });
  });

  test('chunks that arrive before the sink is attached are delivered, then the end', async () => {
    const r = await get('/big');
    await new Promise((res) => setTimeout(res, 100));
    const { bytes, ends, error } = await collect(r);
    assert.deepEqual({ bytes, ends, error }, { bytes: BIG, ends: 1, error: undefined });
  });

  test('repeated response headers become arrays, names lower case', async () => {
    const r = await get('/cookies');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(r.headers['content-length'], '2');
    r.discard();
  });

  test('an abort before the response rejects', async () => {
    const signal = new Abort();
    const p = get('/hang', signal);
    setTimeout(() => signal.abort(), 30);
    await assert.rejects(p);
  });

  test('an already aborted signal rejects without sending', async () => {
    const signal = new Abort();
    signal.abort();
    await assert.rejects(get('/', signal));
  });

  test('destroy() mid-body stops delivery; the pool keeps working', async () => {
    await destroyMidBody(await get('/trickle'));
    const again = await get('/');
    assert.equal((await collect(again)).bytes, 2);
  });
});
