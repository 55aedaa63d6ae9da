import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { H1Pool } from '../../../src/proxy/upstream/h1/pool.js';
import { Abort } from '../../../src/proxy/upstream/abort.js';
import { writeBigBody, writeTrickle } from '../../helpers/test-bodies.js';
import { collect, destroyMidBody } from '../../helpers/upstream-body.js';

const BIG = 1024 * 1024;

describe('lean upstream pool', () => {
  let server: http.Server;
  let port = 0;
  let pool: H1Pool;
  const sockets = new Set<net.Socket>();
  const send = (path: string, o: { method?: string; body?: Buffer | AsyncIterable<Buffer>; headers?: Record<string, string>; signal?: Abort } = {}) =>
    pool.exchange({ path, method: o.method ?? 'GET', headers: { host: 'x', ...o.headers }, body: o.body as never }, o.signal ?? new Abort());

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (req.url === '/big') {
          writeBigBody(res, BIG);
        } else if (req.url === '/chunked') {
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.write('part1,');
          setTimeout(() => res.end('part2'), 5);
        } else if (req.url === '/empty') {
          res.writeHead(204).end();
        } else if (req.url === '/hang') {
          // never answers
        } else if (req.url === '/trickle') {
          writeTrickle(res);
        } else res.end(`${req.method} ${req.url} te=${req.headers['transfer-encoding'] ?? '-'} cl=${req.headers['content-length'] ?? '-'} ${body}`);
      });
    });
    server.on('connection', (s: net.Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    pool = new H1Pool({ address: '127.0.0.1', port, connections: 2, connectTimeoutMs: 1000 });
  });

  after(async () => {
    pool.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('sequential requests reuse one kept-alive connection', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await send(`/seq${i}`);
      assert.equal((await collect(r)).text, `GET /seq${i} te=- cl=- `);
    }
    assert.equal(sockets.size, 1);
  });

  test('bodies: a buffer gets a content-length, a stream without one is sent chunked', async () => {
    const a = await send('/buf', { method: 'POST', body: Buffer.from('hello') });
    assert.equal((await collect(a)).text, 'POST /buf te=- cl=5 hello');
    const b = await send('/stream', { method: 'POST', body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) });
    assert.equal((await collect(b)).text, 'POST /stream te=chunked cl=- abcd');
    const c = await send('/len', { method: 'PUT', body: Readable.from([Buffer.from('xy')]), headers: { 'content-length': '2' } });
    assert.equal((await collect(c)).text, 'PUT /len te=- cl=2 xy');
  });

  test('chunked responses, repeated headers, 204 and HEAD without body', async () => {
    const r = await send('/chunked');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal((await collect(r)).text, 'part1,part2');
    const e = await send('/empty');
    assert.equal(e.statusCode, 204);
    assert.equal((await collect(e)).ends, 1);
    const h = await send('/x', { method: 'HEAD' });
    assert.equal((await collect(h)).ends, 1);
    assert.equal((await collect(await send('/after-head'))).text, 'GET /after-head te=- cl=- ');
  });

  test('a 1 MiB body reaches a slow sink whole; early chunks are kept until the sink attaches', async () => {
    const r = await send('/big');
    assert.deepEqual(await collect(r, true).then((s) => [s.bytes, s.ends, s.error]), [BIG, 1, undefined]);
    const r2 = await send('/big');
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(await collect(r2).then((s) => [s.bytes, s.ends, s.error]), [BIG, 1, undefined]);
  });

  test('abort before the response rejects; destroy mid-body stops delivery; the pool keeps working', async () => {
    const signal = new Abort();
    const p = send('/hang', { signal });
    setTimeout(() => signal.abort(), 30);
    // Issue 12: the proxy's own code (src/proxy/upstream/errors.ts), where undici's UND_ERR_ABORTED was.
    await assert.rejects(p, { code: 'UPSTREAM_ABORTED' });
    const done = new Abort();
    done.abort();
    await assert.rejects(send('/', { signal: done }));
    await destroyMidBody(await send('/trickle'));
    assert.equal((await collect(await send('/again'))).text, 'GET /again te=- cl=- ');
  });

  test('requests beyond the connection limit wait for a free connection', async () => {
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) => send(`/q${i}`).then(collect)));
    assert.deepEqual(all.map((s) => s.text), Array.from({ length: 6 }, (_, i) => `GET /q${i} te=- cl=- `));
    assert.ok(sockets.size <= 2, `connections: ${sockets.size}`);
  });
});

describe('lean upstream pool: failures', () => {
  test('connection refused is a connect failure (ECONNREFUSED)', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const pool = new H1Pool({ address: '127.0.0.1', port, connections: 1, connectTimeoutMs: 1000 });
    // A TrellisError for every upstream failure (issue 12); the errno is its cause.
    await assert.rejects(pool.exchange({ path: '/', method: 'GET', headers: { host: 'x' }, body: undefined }, new Abort()),
      (e: Error & { code?: string; cause?: { code?: string } }) => e.code === 'UPSTREAM_CONNECT_FAILED' && e.cause?.code === 'ECONNREFUSED');
    pool.close();
  });

  test('a kept-alive connection the server closed is retried once on a new one; close-delimited bodies end at close', async () => {
    let conns = 0;
    const srv = net.createServer((s) => {
      const n = ++conns;
      let reqs = 0;
      s.on('data', () => {
        reqs++;
        // The first connection answers once, then drops the next request unanswered (a stale keep-alive).
        if (n === 1 && reqs === 1) s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        else if (n === 1) s.destroy();
        else s.end('HTTP/1.0 200 OK\r\n\r\nuntil-close');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const pool = new H1Pool({ address: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, connections: 1, connectTimeoutMs: 1000 });
    try {
      const get = () => pool.exchange({ path: '/', method: 'GET', headers: { host: 'x' }, body: undefined }, new Abort());
      assert.equal((await collect(await get())).text, 'ok');
      const second = await collect(await get());
      assert.deepEqual([second.text, second.ends], ['until-close', 1]);
      assert.equal(conns, 2);
    } finally {
      pool.close();
      await new Promise((r) => srv.close(r));
    }
  });

  test('a malformed response head fails the request', async () => {
    const srv = net.createServer((s) => s.on('data', () => s.write('HTTP/1.1 2x0 OK\r\n\r\n')));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const pool = new H1Pool({ address: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, connections: 1, connectTimeoutMs: 1000 });
    try {
      await assert.rejects(pool.exchange({ path: '/', method: 'GET', headers: { host: 'x' }, body: undefined }, new Abort()), /invalid status code/);
    } finally {
      pool.close();
      await new Promise((r) => srv.close(r));
    }
  });
});
