/**
 * The control plane's JWKS fetch (istiod's JwksResolver) against a real HTTP
 * server on loopback: keys fetched once and cached, a failure retried with
 * back-off and the keys then pushed, a slow server cut at the rule's
 * timeout, last good keys kept through a failed refresh, bad answers
 * (not JSON, no keys, too large) refused with JWKS_FETCH_FAILED, and a URI
 * no longer wanted forgotten.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchJwks, JwksResolver } from '../../../src/controlplane/jwks/jwks-resolver.js';
import { jwksUrisOf } from '../../../src/controlplane/jwks/jwks-uris.js';
import { logger } from '../../../src/log.js';
import type { AnyObject } from '../../../src/config/objects.js';

const KEYS = '{"keys":[]}';
const waitFor = async (ok: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; !ok() && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), 'condition not met in time');
};

describe('jwks resolver', () => {
  let server: Server;
  let base = '';
  const hits = new Map<string, number>();
  let flaky = 1;
  let rotating = 0;

  before(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (path === '/ok') return void res.end(KEYS);
      if (path === '/flaky') return void (flaky-- > 0 ? res.writeHead(500).end() : res.end(KEYS));
      if (path === '/rotating') return void (rotating++ === 1 ? res.writeHead(503).end() : res.end(`{"keys":[],"n":${Math.min(rotating, 3)}}`));
      if (path === '/slow') return; // never answers
      if (path === '/html') return void res.end('<html>');
      if (path === '/nokeys') return void res.end('{"kids":[]}');
      if (path === '/huge') return void res.end(`{"keys":[],"x":"${'a'.repeat(1024 * 1024)}"}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('fetchJwks refuses what is no key set, with a stable code', async () => {
    assert.equal(await fetchJwks(`${base}/ok`, 1000), KEYS);
    for (const p of ['/html', '/nokeys', '/huge', '/missing']) {
      await assert.rejects(fetchJwks(`${base}${p}`, 1000), (e: Error & { code?: string }) => e.code === 'JWKS_FETCH_FAILED', p);
    }
    const t0 = Date.now();
    await assert.rejects(fetchJwks(`${base}/slow`, 200), /request failed/);
    assert.ok(Date.now() - t0 < 2000, 'cut at the timeout');
  });

  test('keys are fetched once, cached, retried after a failure, and every change is announced', async () => {
    let changes = 0;
    const r = new JwksResolver({ log: logger('jwks-test'), onChange: () => changes++, refreshMs: 60_000 });
    try {
      r.want(new Map([[`${base}/ok`, 1000], [`${base}/flaky`, 1000]]));
      await waitFor(() => r.keys(`${base}/ok`) === KEYS && r.keys(`${base}/flaky`) === KEYS);
      assert.equal(changes, 2);
      assert.equal(hits.get('/flaky'), 2, 'one failure, one retry a second later');
      const okHits = hits.get('/ok');
      r.want(new Map([[`${base}/ok`, 1000], [`${base}/flaky`, 1000]]));
      assert.equal(hits.get('/ok'), okHits, 'cached: asking again fetches nothing');
      const snap = r.snapshot();
      r.want(new Map([[`${base}/flaky`, 1000]]));
      assert.equal(r.keys(`${base}/ok`), undefined, 'forgotten when no rule names it');
      assert.equal(snap(`${base}/ok`), KEYS, 'a snapshot taken for a push does not change under it');
    } finally {
      r.close();
    }
  });

  test('a failed refresh keeps the last good keys; the next good one replaces them', async () => {
    let changes = 0;
    const r = new JwksResolver({ log: logger('jwks-test'), onChange: () => changes++, refreshMs: 300 });
    try {
      r.want(new Map([[`${base}/rotating`, 1000]]));
      await waitFor(() => r.keys(`${base}/rotating`) !== undefined);
      const first = r.keys(`${base}/rotating`);
      await waitFor(() => (hits.get('/rotating') ?? 0) >= 2);
      assert.equal(r.keys(`${base}/rotating`), first, 'kept through the 503');
      await waitFor(() => r.keys(`${base}/rotating`) !== first, 5000);
      assert.equal(changes, 2);
    } finally {
      r.close();
    }
  });

  test('jwksUrisOf: rules without inline keys, with their timeouts (default 5 s)', () => {
    const o = (jwtRules: object[]) => ({ kind: 'RequestAuthentication', metadata: { name: 'x' }, spec: { jwtRules } }) as unknown as AnyObject;
    const uris = jwksUrisOf([o([{ issuer: 'a', jwksUri: 'http://a/k' }, { issuer: 'b', jwksUri: 'http://b/k', jwks: KEYS }]), o([{ issuer: 'c', jwksUri: 'http://a/k', timeout: '10s' }])]);
    assert.deepEqual([...uris], [['http://a/k', 10_000]]);
  });
});
