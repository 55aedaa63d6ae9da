import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { headEnd, HeadError, MAX_HEADERS, parseRequestHead, parseResponseHead, type Framing } from '../../../src/proxy/codec/h1/head.js';
import { BodyDecoder } from '../../../src/proxy/codec/h1/body.js';
import { requestHead } from '../../../src/proxy/upstream/h1/conn.js';

const b = (s: string) => Buffer.from(s, 'latin1');

/** Feeds `input` to a fresh decoder split at `cut` (and byte by byte when cut < 0); returns body text and leftover. */
function decode(f: Framing, input: Buffer, cut: number): { body: string; used: number; done: boolean } {
  const d = new BodyDecoder(f);
  const parts: Buffer[] = [];
  const pieces = cut < 0 ? [...input].map((x) => Buffer.from([x])) : [input.subarray(0, cut), input.subarray(cut)];
  let used = 0;
  for (const p of pieces) {
    if (d.done) break;
    used += d.push(p, 0, p.length, (c) => parts.push(Buffer.from(c)));
  }
  return { body: Buffer.concat(parts).toString('latin1'), used, done: d.done };
}

describe('h1 head parsing', () => {
  const req = 'GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nx-a: 2\r\nCookie: a=1\r\ncookie: b=2\r\nSet-Cookie: s=1\r\nset-cookie: s=2\r\nContent-Length: 5\r\n\r\n';

  test('a request head at every split point is found once, and parses to the same fields', () => {
    const full = b(`${req}hello`);
    for (let cut = 1; cut < full.length; cut++) {
      // headEnd is asked again with the whole buffer so far, as the connection does.
      const first = headEnd(full.subarray(0, cut), 0);
      if (cut < req.length) assert.equal(first, -1, `cut ${cut}`);
      else assert.equal(first, req.length);
    }
    const h = parseRequestHead(full, 0, headEnd(full, 0));
    assert.equal(h.method, 'GET');
    assert.equal(h.url, '/a/b?x=1');
    assert.equal(h.versionMinor, 1);
    assert.equal(h.headers.host, 'example.com');
    assert.equal(h.headers['x-a'], '1, 2');
    assert.equal(h.headers.cookie, 'a=1; b=2');
    assert.deepEqual(h.headers['set-cookie'], ['s=1', 's=2']);
    assert.deepEqual(h.framing, { kind: 'length', length: 5 });
    assert.equal(h.keepAlive, true);
  });

  test('optional whitespace around values is dropped, colons inside values kept, known and odd name spellings lower-cased', () => {
    const s = 'GET / HTTP/1.1\r\nHOST:x\r\nX-Spaced: \t spaced value \t\r\nX-Url: http://a:1/b\r\nContent-Type:text/plain\r\nX-Empty:\r\n\r\n';
    const h = parseRequestHead(b(s), 0, s.length).headers;
    assert.deepEqual(h, { host: 'x', 'x-spaced': 'spaced value', 'x-url': 'http://a:1/b', 'content-type': 'text/plain', 'x-empty': '' });
  });

  test('keep-alive follows the version and the Connection header', () => {
    const p = (s: string) => parseRequestHead(b(s), 0, s.length).keepAlive;
    assert.equal(p('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'), false);
    assert.equal(p('GET / HTTP/1.0\r\n\r\n'), false);
    assert.equal(p('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'), true);
  });

  test('malformed requests are errors with the status a server answers', () => {
    const bad: Array<[string, number]> = [
      ['GET /\r\nhost: x\r\n\r\n', 400],
      ['GET  / HTTP/1.1\r\nhost: x\r\n\r\n', 400],
      ['G(T / HTTP/1.1\r\nhost: x\r\n\r\n', 400],
      ['GET / HTTP/2.0\r\nhost: x\r\n\r\n', 505],
      ['GET / FOO\r\nhost: x\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nhost: x\r\n folded\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nhost: x\r\nbad name: 1\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nhost: x\r\nnocolon\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nhost: x\r\nnocolon\r\ny: z\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nhost: x\r\n: empty name\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nhost: x\r\nx: a\x01b\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n', 400],
      [`GET / HTTP/1.1\r\nhost: x\r\n${'a: b\r\n'.repeat(MAX_HEADERS)}\r\n`, 431],
    ];
    for (const [s, status] of bad) {
      assert.throws(() => parseRequestHead(b(s), 0, s.length), (e: unknown) => e instanceof HeadError && e.status === status, JSON.stringify(s));
    }
  });

  test('response heads: status, framing by chunked / length / close', () => {
    const r = (s: string) => parseResponseHead(b(s), 0, s.length);
    assert.deepEqual(r('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n').framing, { kind: 'chunked' });
    assert.deepEqual(r('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n').framing, { kind: 'none' });
    assert.deepEqual(r('HTTP/1.0 200 OK\r\n\r\n').framing, { kind: 'close' });
    assert.equal(r('HTTP/1.1 503 \r\n\r\n').status, 503);
    assert.equal(r('HTTP/1.1 204\r\n\r\n').status, 204);
    assert.equal(r('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n').keepAlive, false);
    for (const s of ['HTTP/1.1 20 OK\r\n\r\n', 'HTTP/1.1 abc OK\r\n\r\n', 'HTTX/1.1 200 OK\r\n\r\n', 'HTTP/1.1 200OK\r\n\r\n']) {
      assert.throws(() => r(s), HeadError, s);
    }
  });

  test('the upstream request head carries its own framing, never the downstream one', () => {
    const h = requestHead('POST', '/p', { host: 'h', 'content-length': '3', 'transfer-encoding': 'chunked', a: ['1', '2'] }, -1);
    assert.equal(h, 'POST /p HTTP/1.1\r\nhost: h\r\na: 1\r\na: 2\r\ntransfer-encoding: chunked\r\n\r\n');
    assert.throws(() => requestHead('GET', '/', { host: 'h', x: 'a\r\nb: c' }, undefined), HeadError);
  });
});

describe('h1 body decoding', () => {
  const chunked = b('5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: 1\r\n\r\nNEXT');
  const chunkedBody = `hello${'abcdefghijklmnopqrstuvwxyz'}`;

  test('chunked body split at every byte boundary, and byte by byte', () => {
    for (let cut = -1; cut < chunked.length; cut++) {
      const r = decode({ kind: 'chunked' }, chunked, cut);
      assert.equal(r.body, chunkedBody, `cut ${cut}`);
      assert.ok(r.done, `cut ${cut}`);
      assert.equal(r.used, chunked.length - 4, `cut ${cut}: stops before the next message`);
    }
  });

  test('chunked body without trailers ends at the last chunk CRLF', () => {
    const input = b('3\r\nabc\r\n0\r\n\r\nGET');
    for (let cut = -1; cut < input.length; cut++) {
      const r = decode({ kind: 'chunked' }, input, cut);
      assert.deepEqual([r.body, r.done, r.used], ['abc', true, input.length - 3], `cut ${cut}`);
    }
  });

  test('content-length body stops at its length at every split', () => {
    const input = b('0123456789tail');
    for (let cut = -1; cut < input.length; cut++) {
      const r = decode({ kind: 'length', length: 10 }, input, cut);
      assert.deepEqual([r.body, r.done, r.used], ['0123456789', true, 10], `cut ${cut}`);
    }
  });

  test('close-delimited bodies take everything and never finish by themselves', () => {
    const r = decode({ kind: 'close' }, b('all of it'), 3);
    assert.deepEqual([r.body, r.done], ['all of it', false]);
  });

  test('bad chunked input is an error', () => {
    for (const s of ['g\r\n', '\r\n', '5\r\nhelloX\r\n', '5\nhello', '1234567890abc\r\n', '5\r\nhello\rX']) {
      assert.throws(() => decode({ kind: 'chunked' }, b(s), -1), HeadError, JSON.stringify(s));
    }
  });
});
