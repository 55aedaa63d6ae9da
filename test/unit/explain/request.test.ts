/** The request explain follows: curl's Host, the seed's x-request-id, and clear usage errors for bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrellisError } from '../../../src/errors.js';
import { parseHeaderFlags, parseRequest, requestIdForSeed } from '../../../src/debug/explain/request.js';

const usage = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof TrellisError && e.code === 'CLI_USAGE' && re.test(e.message));

test('Host as curl sends it (no default port), path and query split, the seed\'s id stable and distinct per seed', () => {
  const r = parseRequest({ method: 'get', url: 'http://reviews.shop:9080/a/b?x=1', headers: {}, seed: 3 });
  assert.deepEqual([r.method, r.authority, r.host, r.port, r.path, r.query], ['GET', 'reviews.shop:9080', 'reviews.shop', 9080, '/a/b', 'x=1']);
  assert.equal(r.headers['x-request-id'], requestIdForSeed(3));
  assert.equal(requestIdForSeed(3), requestIdForSeed(3));
  assert.notEqual(requestIdForSeed(3), requestIdForSeed(4));
  assert.match(requestIdForSeed(3), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(parseRequest({ method: 'GET', url: 'http://10.96.0.1/', headers: {} }).authority, '10.96.0.1');
  assert.equal(parseRequest({ method: 'GET', url: 'http://10.96.0.1/', headers: {} }).ip, '10.96.0.1');
  assert.equal(parseRequest({ method: 'GET', url: 'https://api/', headers: {} }).port, 443);
  // The user's own x-request-id wins over the seed.
  assert.equal(parseRequest({ method: 'GET', url: 'http://a/', headers: { 'x-request-id': 'mine' }, seed: 1 }).requestId, 'mine');
});

test('bad input is a usage error that says what is wrong', () => {
  usage(() => parseRequest({ method: 'GET', url: 'reviews:9080', headers: {} }), /http:\/\/ and https:\/\//);
  usage(() => parseRequest({ method: 'GET', url: 'not a url', headers: {} }), /not a URL/);
  usage(() => parseRequest({ method: 'G E T', url: 'http://a/', headers: {} }), /not an HTTP method/);
  usage(() => parseHeaderFlags(['no-colon']), /-H wants 'name: value'/);
  usage(() => parseHeaderFlags([': v']), /-H wants/);
  assert.deepEqual(parseHeaderFlags(['X-Variant: v2', 'a:b:c']), { 'x-variant': 'v2', a: 'b:c' });
});
