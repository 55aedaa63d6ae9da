/**
 * Fuzz: the HTTP/1.1 head parsers (src/proxy/codec/h1/head.ts) on bytes near valid
 * request and response heads. A head either parses or raises HeadError with a
 * 4xx/505 status — never another exception; what parses means what was sent;
 * and no prefix of a valid request head is refused by the partial-head check
 * (otherwise a request split across packets would get a 400).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPartialHead, headEnd, HeadError, parseRequestHead, parseResponseHead } from '../../src/proxy/codec/h1/head.js';
import { fuzz, mutated } from './harness.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
/** Field values: visible ASCII and obs-text, no leading/trailing whitespace (it is not part of the value). */
const value = fc.string({ unit: fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength: 24 });
const target = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }).map((s) => `/${s}`);
/** Names the parser treats specially are left out of the random ones (they are exercised by the mutations). */
const SPECIAL = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'set-cookie', 'cookie']);
const fields = fc.uniqueArray(fc.tuple(token, value), { maxLength: 12, selector: ([n]) => n.toLowerCase() })
  .map((fs) => fs.filter(([n]) => !SPECIAL.has(n.toLowerCase())));

interface Sent { method: string; url: string; fields: Array<[string, string]>; bytes: Buffer }

const request = fc.record({ method: token, url: target, fields, host: token, ows: fc.constantFrom('', ' ', '\t', ' \t ') }).map((r): Sent => {
  let s = `${r.method} ${r.url} HTTP/1.1\r\nHost:${r.ows}${r.host}${r.ows}\r\n`;
  for (const [n, v] of r.fields) s += `${n}:${r.ows}${v}${r.ows}\r\n`;
  return { method: r.method, url: r.url, fields: [['host', r.host], ...r.fields], bytes: Buffer.from(`${s}\r\n`, 'latin1') };
});

const response = fc.record({ status: fc.integer({ min: 100, max: 599 }), fields, reason: fc.constantFrom('', 'OK', 'Not Found', 'x y z') })
  .map((r) => Buffer.from(`HTTP/1.1 ${r.status} ${r.reason}\r\n${r.fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}content-length: 0\r\n\r\n`, 'latin1'));

/** Parses a head the way the server connection does; returns the head, or the HeadError. */
function parseAsServer(b: Buffer): ReturnType<typeof parseRequestHead> | HeadError | 'incomplete' {
  try {
    const end = headEnd(b, 0);
    if (end < 0) {
      checkPartialHead(b, 0);
      return 'incomplete';
    }
    return parseRequestHead(b, 0, end);
  } catch (err) {
    if (err instanceof HeadError) return err;
    throw err;
  }
}

const validStatus = (e: HeadError) => (e.status >= 400 && e.status < 500) || e.status === 505;

test('fuzz: valid request heads parse to what was sent, and no prefix of one is refused', async (t) => {
  await fuzz('h1 request head (valid)', fc.property(request, (r) => {
    const head = parseRequestHead(r.bytes, 0, headEnd(r.bytes, 0));
    assert.equal(head.method, r.method);
    assert.equal(head.url, r.url);
    for (const [n, v] of r.fields) assert.equal(head.headers[n.toLowerCase()], v);
    const end = headEnd(r.bytes, 0) - 1;
    for (let i = 1; i < end; i++) checkPartialHead(r.bytes.subarray(0, i), 0);
  }), 1500, t);
});

test('fuzz: mutated request heads parse or raise HeadError with a 4xx', async (t) => {
  await fuzz('h1 request head (mutated)', fc.property(mutated(request.map((r) => r.bytes), 8), (bytes) => {
    const r = parseAsServer(Buffer.from(bytes));
    if (r instanceof HeadError) assert.ok(validStatus(r), `status ${r.status}`);
  }), 8000, t);
});

test('fuzz: arbitrary bytes as a request head', async (t) => {
  await fuzz('h1 request head (bytes)', fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
    const r = parseAsServer(Buffer.from(bytes));
    if (r instanceof HeadError) assert.ok(validStatus(r));
  }), 8000, t);
});

test('fuzz: incremental partial-head checks agree with checking the whole prefix at once', async (t) => {
  await fuzz('h1 partial head (incremental)', fc.property(mutated(request.map((r) => r.bytes), 4), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
    const b = Buffer.from(bytes);
    const whole = (() => { try { checkPartialHead(b, 0); return 'ok'; } catch { return 'refused'; } })();
    let checked = 0;
    let verdict = 'ok';
    try {
      for (const at of [...cuts.map((c) => (b.length ? c % b.length : 0)).sort((x, y) => x - y), b.length]) {
        if (at < checked) continue;
        checked = checkPartialHead(b.subarray(0, at), checked);
      }
    } catch {
      verdict = 'refused';
    }
    assert.equal(verdict, whole);
  }), 5000, t);
});

test('fuzz: mutated response heads parse or raise HeadError', async (t) => {
  await fuzz('h1 response head (mutated)', fc.property(mutated(response, 8), (bytes) => {
    const b = Buffer.from(bytes);
    const end = headEnd(b, 0);
    if (end < 0) return;
    try {
      const head = parseResponseHead(b, 0, end);
      assert.ok(head.status >= 100 && head.status <= 999);
    } catch (err) {
      assert.ok(err instanceof HeadError, String(err));
    }
  }), 8000, t);
});
