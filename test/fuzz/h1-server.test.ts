/**
 * Fuzz: the proxy's HTTP/1.1 server connection (src/proxy/codec/h1/server-conn.ts)
 * over real sockets. Streams of pipelined requests near valid ones, cut into
 * random pieces, then the client half-closes: the server must answer what was
 * valid in order, answer 4xx or close on what was not, and close the
 * connection within a bound — never throw, never leave it hanging — and a good
 * request on a new connection must still be served.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { H1Server } from '../../src/proxy/codec/h1/h1-server.js';
import type { ConnContext } from '../../src/proxy/listener/conn-context.js';
import { cut, fuzz, mutated, splits } from './harness.js';

const ctx: ConnContext = { originalDst: { address: '127.0.0.1', port: 0 }, local: '', remote: '', remoteIp: '', inbound: false, serverName: '', draining: false, protocol: 'h1' };
let server: net.Server;
let port = 0;

before(async () => {
  const lean = new H1Server((req, res) => {
    void (async () => {
      let n = 0;
      for await (const c of req) n += (c as Buffer).length;
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url} ${n}`);
    })().catch(() => res.destroy());
  }, { idleMs: 2000, headersMs: 2000 });
  server = net.createServer({ allowHalfOpen: true }, (s) => lean.accept(s, ctx));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});

after(() => new Promise<void>((r) => server.close(() => r())));

/**
 * Sends the pieces and resolves with what came back once the server closed
 * (or after `limitMs`). Without `enough`, the client half-closes after
 * writing (the server must then finish); with it, the client closes once
 * `enough(data)` holds (a half-close abandons requests in flight, as node:http).
 */
function converse(pieces: Buffer[], limitMs: number, enough?: (data: string) => boolean): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => { s.destroy(); resolve({ data, closed: false }); }, limitMs);
    s.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (enough?.(data)) s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(timer); resolve({ data, closed: true }); });
    s.on('connect', () => {
      for (const p of pieces) s.write(p);
      if (!enough) s.end();
    });
  });
}

const finals = (data: string) => [...data.matchAll(STATUS_LINE)].filter((m) => m[1] !== '100');

const one = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE'),
  path: fc.constantFrom('/', '/a', '/b?c=d', '/x/y/z'),
  body: fc.uint8Array({ maxLength: 64 }),
  chunked: fc.boolean(),
  extra: fc.constantFrom('', 'x-a: 1\r\n', 'expect: 100-continue\r\n', 'connection: keep-alive\r\n', 'cookie: a=b\r\ncookie: c=d\r\n'),
}).map((r) => {
  const body = Buffer.from(r.body);
  const framing = body.length === 0 ? '' : r.chunked ? 'transfer-encoding: chunked\r\n' : `content-length: ${body.length}\r\n`;
  const encoded = body.length === 0 ? body : r.chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
  return Buffer.concat([Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\nhost: fuzz\r\n${r.extra}${framing}\r\n`), encoded]);
});
const pipeline = fc.array(one, { minLength: 1, maxLength: 4 }).map((rs) => new Uint8Array(Buffer.concat(rs)));
const STATUS_LINE = /HTTP\/1\.1 (\d{3}) /g;

test('fuzz: pipelined requests near valid ones, in random pieces: answered or refused, and closed in bounded time', async (t) => {
  await fuzz('h1 server connection', fc.asyncProperty(fc.oneof({ weight: 1, arbitrary: pipeline }, { weight: 4, arbitrary: mutated(pipeline, 6) }), splits(), async (bytes, at) => {
    const r = await converse(cut(bytes, at), 3000);
    assert.ok(r.closed, `connection left open: got ${JSON.stringify(r.data.slice(0, 200))}`);
    for (const m of r.data.matchAll(STATUS_LINE)) {
      const status = Number(m[1]);
      assert.ok(status === 100 || status === 200 || (status >= 400 && status < 500) || status === 505, `status ${status}`);
    }
  }), 250, t);
  const good = await converse([Buffer.from('GET /after HTTP/1.1\r\nhost: x\r\n\r\n')], 3000);
  assert.match(good.data, /^HTTP\/1\.1 200 OK\r\n[\s\S]*GET \/after 0$/);
});

test('fuzz: every request of a valid pipeline is answered, in order', async (t) => {
  await fuzz('h1 server pipeline (valid)', fc.asyncProperty(fc.array(one, { minLength: 1, maxLength: 5 }), splits(), async (reqs, at) => {
    const bytes = Buffer.concat(reqs);
    // Complete once every response is in (the last one's body included: each ends with its byte count or is empty for HEAD).
    const r = await converse(cut(bytes, at), 3000, (d) => finals(d).length === reqs.length && /(?: \d+|\r\n\r\n)$/.test(d));
    assert.equal(finals(r.data).length, reqs.length, r.data);
    const paths = [...r.data.matchAll(/(?:GET|POST|PUT|DELETE) (\S+) \d+/g)].map((m) => m[1]);
    const expected = reqs.map((b) => b.toString('latin1').split(' ', 2)).filter(([m]) => m !== 'HEAD').map(([, p]) => p);
    assert.deepEqual(paths, expected);
  }), 150, t);
});
