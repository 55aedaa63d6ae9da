import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { H1Server } from '../../../src/proxy/codec/h1/h1-server.js';
import type { ConnContext } from '../../../src/proxy/listener/conn-context.js';
import type { H1Request } from '../../../src/proxy/codec/h1/request.js';
import type { H1Response } from '../../../src/proxy/codec/h1/response.js';

const ctx: ConnContext = { originalDst: { address: '127.0.0.1', port: 0 }, local: '', remote: '', remoteIp: '', inbound: false, serverName: '', draining: false, protocol: 'h1' };

/** Sends raw bytes (in the given pieces), collects everything until the server closes or `untilBytes` arrived. */
function exchange(port: number, pieces: string[], until: (got: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`timeout; got ${JSON.stringify(got)}`)); }, 3000);
    const done = () => { clearTimeout(timer); s.destroy(); resolve(got); };
    s.on('data', (c) => { got += c.toString('latin1'); if (until(got)) done(); });
    s.on('close', done);
    s.on('error', () => undefined);
    s.on('connect', async () => {
      for (const p of pieces) {
        s.write(p);
        await new Promise((r) => setTimeout(r, 2));
      }
    });
  });
}

const count = (s: string, sub: string) => s.split(sub).length - 1;

describe('lean HTTP/1.1 server connection', () => {
  let server: net.Server;
  let port = 0;
  const seen: Array<{ method: string; url: string; body: string }> = [];

  async function handle(req: H1Request, res: H1Response): Promise<void> {
    let body = '';
    for await (const c of req) body += (c as Buffer).toString();
    seen.push({ method: req.method, url: req.url, body });
    if (req.url === '/chunked') {
      res.writeHead(200, { 'x-mode': 'chunked' });
      res.write('ab');
      setTimeout(() => res.end('cd'), 5);
    } else if (req.url === '/unread') {
      res.end('early');
    } else {
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url} ${body}`);
    }
  }

  before(async () => {
    const lean = new H1Server((req, res) => {
      // Answers /unread before reading the body, like a local reply does.
      if (req.url === '/unread') return void res.end('early');
      void handle(req, res).catch(() => res.destroy());
    }, { idleMs: 5000, headersMs: 5000 });
    server = net.createServer({ allowHalfOpen: true }, (s) => lean.accept(s, ctx));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });

  after(async () => {
    await new Promise((r) => server.close(r));
  });

  test('a request split at every byte arrives whole; Content-Length and chunked bodies', async () => {
    const msg = 'POST /p HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    const got = await exchange(port, [...msg], (g) => g.includes('POST /p abcde'));
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(got, /content-length: 13\r\n/);
    const cl = await exchange(port, ['PUT /q HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\nwx', 'yz'], (g) => g.includes('PUT /q wxyz'));
    assert.match(cl, /PUT \/q wxyz$/);
  });

  test('keep-alive and pipelined requests are answered in order on one connection', async () => {
    const one = 'GET /1 HTTP/1.1\r\nhost: x\r\n\r\n';
    const got = await exchange(port, [one + one.replace('/1', '/2') + one.replace('/1', '/3')], (g) => g.includes('GET /3 '));
    assert.equal(count(got, 'HTTP/1.1 200 OK'), 3);
    assert.ok(got.indexOf('GET /1 ') < got.indexOf('GET /2 ') && got.indexOf('GET /2 ') < got.indexOf('GET /3 '));
  });

  test('a response without a length is chunked for HTTP/1.1 and close-delimited for HTTP/1.0', async () => {
    const got = await exchange(port, ['GET /chunked HTTP/1.1\r\nhost: x\r\n\r\n'], (g) => g.endsWith('0\r\n\r\n'));
    assert.match(got, /transfer-encoding: chunked\r\n/);
    assert.ok(got.endsWith('\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n'), JSON.stringify(got));
    const old = await exchange(port, ['GET /chunked HTTP/1.0\r\n\r\n'], () => false);
    assert.match(old, /connection: close\r\n/);
    assert.ok(old.endsWith('\r\n\r\nabcd'), JSON.stringify(old));
  });

  test('an answered request whose body was not read: the body is skipped and the connection stays usable', async () => {
    const got = await exchange(port, ['POST /unread HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\n', 'xxxxxGET /after HTTP/1.1\r\nhost: x\r\n\r\n'], (g) => g.includes('GET /after'));
    assert.match(got, /early/);
    assert.match(got, /GET \/after $/);
  });

  test('Expect: 100-continue gets an interim 100 before the final response', async () => {
    const got = await exchange(port, ['POST /c HTTP/1.1\r\nhost: x\r\nexpect: 100-Continue\r\ncontent-length: 2\r\n\r\n', 'hi'], (g) => g.includes('POST /c hi'));
    assert.match(got, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  });

  test('malformed input gets 400 and a close; an oversized head gets 431', async () => {
    for (const bad of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nhost: x\r\nx y: z\r\n\r\n', 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n']) {
      const got = await exchange(port, [bad], () => false);
      assert.match(got, /^HTTP\/1\.1 400 Bad Request\r\n/, JSON.stringify(bad));
    }
    const big = await exchange(port, [`GET / HTTP/1.1\r\nhost: x\r\nx: ${'a'.repeat(70 * 1024)}`], () => false);
    assert.match(big, /^HTTP\/1\.1 431 /);
  });
});

describe('an HTTP/1.1 connection drained by a listener update', () => {
  /** A server whose connections are all drained the moment `drainNow` is called; answers "ok". */
  async function drainingServer(): Promise<{ port: number; drainNow: () => void; close: () => Promise<void> }> {
    const conns: Array<{ drain(): void }> = [];
    const lean = new H1Server((_req, res) => res.end('ok'), { idleMs: 5000, headersMs: 5000 });
    const server = net.createServer({ allowHalfOpen: true }, (s) => conns.push(lean.accept(s, { ...ctx })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      port: (server.address() as net.AddressInfo).port,
      drainNow: () => conns.forEach((c) => c.drain()),
      close: () => new Promise((r) => server.close(() => r())),
    };
  }

  test('a connection drained before its first request arrived still serves it, with connection: close', async () => {
    const srv = await drainingServer();
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const s = net.connect(srv.port, '127.0.0.1');
        let out = '';
        const timer = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(out)}`)), 3000);
        s.on('data', (c) => (out += c.toString('latin1')));
        s.on('close', () => { clearTimeout(timer); resolve(out); });
        // Accepted, then the listener drains it, then the request's bytes arrive (a push racing a new connection).
        s.on('connect', () => setTimeout(() => { srv.drainNow(); setTimeout(() => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'), 20); }, 20));
      });
      assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(got, /\r\nconnection: close\r\n/i);
    } finally {
      await srv.close();
    }
  });

  test('a keep-alive connection between requests is closed at once', async () => {
    const srv = await drainingServer();
    try {
      const closed = await new Promise<boolean>((resolve) => {
        const s = net.connect(srv.port, '127.0.0.1');
        const timer = setTimeout(() => { s.destroy(); resolve(false); }, 1000);
        s.on('data', () => setTimeout(() => srv.drainNow(), 20));
        s.on('close', () => { clearTimeout(timer); resolve(true); });
        s.on('connect', () => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
      });
      assert.ok(closed, 'closed well before the 5 s idle timeout');
    } finally {
      await srv.close();
    }
  });
});
