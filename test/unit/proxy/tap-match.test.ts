import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrellisError } from '../../../src/errors.js';
import { DEFAULT_MAX_RPS, parseTapQuery, tapHeaders, tapMatches, TokenBucket } from '../../../src/proxy/tap/tap-match.js';
import { isLoopback } from '../../../src/proxy/admin/tap-endpoint.js';

const q = (s: string) => new URLSearchParams(s);

test('tap query: defaults, normalisation, every bad parameter named at once', () => {
  assert.deepEqual(parseTapQuery(q('')), { pathPrefix: undefined, method: undefined, authority: undefined, maxRps: DEFAULT_MAX_RPS, headers: false });
  assert.deepEqual(parseTapQuery(q('path=/a&method=post&authority=A.b:80&max_rps=0.5&headers=true')), { pathPrefix: '/a', method: 'POST', authority: 'a.b:80', maxRps: 0.5, headers: true });
  assert.throws(() => parseTapQuery(q('path=a&method=G%20T&max_rps=-1&headers=yes&x=1&authority=')), (e: unknown) => {
    assert.ok(e instanceof TrellisError && e.code === 'TAP_REQUEST');
    for (const part of ['unknown parameter "x"', 'path:', 'method:', 'max_rps:', 'headers:', 'authority: empty']) assert.ok(e.message.includes(part), part);
    return true;
  });
  for (const bad of ['max_rps=', 'max_rps=abc', 'max_rps=Infinity', 'max_rps=10001', 'path=/a&path=/b']) assert.throws(() => parseTapQuery(q(bad)), /bad tap request/, bad);
});

test('tap match: path prefix without the query, exact method, authority without case', () => {
  const m = parseTapQuery(q('path=/api&method=GET&authority=Shop.local'));
  assert.ok(tapMatches(m, 'GET', 'shop.LOCAL', '/api/items?x=/api'));
  assert.ok(!tapMatches(m, 'GET', 'shop.local', '/x?/api'));
  assert.ok(!tapMatches(m, 'POST', 'shop.local', '/api'));
  assert.ok(!tapMatches(m, 'GET', 'shop.local:80', '/api'));
  assert.ok(tapMatches(parseTapQuery(q('')), 'PATCH', '', ''));
});

test('token bucket: bursts of max(1, rate), refilled at the rate, fractional rates too', () => {
  const b = new TokenBucket(3, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  assert.equal(b.take(300), false);
  assert.equal(b.take(340), true);
  assert.equal(b.take(10_000), true);
  const half = new TokenBucket(0.5, 0);
  assert.deepEqual([half.take(0), half.take(1000), half.take(2000)], [true, false, true]);
});

test('tap headers: credentials redacted whatever their case, values per entry, pseudo-headers left out', () => {
  assert.deepEqual(tapHeaders({ ':path': '/', Authorization: 'Bearer x', 'set-cookie': ['a=1', 'b=2'], 'proxy-authorization': 'p', cookie: 'c', 'x-ok': 'v', gone: undefined }), [
    { name: 'Authorization', valueStr: 'REDACTED' },
    { name: 'set-cookie', valueStr: 'REDACTED' },
    { name: 'set-cookie', valueStr: 'REDACTED' },
    { name: 'proxy-authorization', valueStr: 'REDACTED' },
    { name: 'cookie', valueStr: 'REDACTED' },
    { name: 'x-ok', valueStr: 'v' },
  ]);
});

test('tap endpoint peers: loopback only', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of [undefined, '10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', '::', '1127.0.0.1']) assert.ok(!isLoopback(a), String(a));
});
