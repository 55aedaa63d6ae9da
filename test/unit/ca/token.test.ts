/**
 * Workload tokens: created and verified, the claims a Kubernetes token has,
 * and each way a token must fail — expired, not yet valid, wrong audience,
 * tampered, another key, alg none, HS256 keyed with the public key (the
 * classic algorithm confusion), malformed — with its own error code. Forged
 * tokens are signed here with the real token key so that only the one thing
 * under test is wrong.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTokenIssuer, thumbprint } from '../../../src/ca/token.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const code = (c: string, msg?: RegExp) => (e: Error & { code?: string }) => e.code === c && (!msg || msg.test(e.message));

describe('workload tokens', () => {
  let dir: string;
  let issuer: LocalTokenIssuer;
  let key: KeyObject;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    iss: 'trellis-controlplane', sub: 'system:serviceaccount:default:reviews', aud: ['istio-ca'],
    iat: now(), nbf: now(), exp: now() + 600, 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'reviews' } }, ...over,
  });
  /** A token signed with the real key: ES256 over header.claims exactly as given. */
  const es256 = (header: Record<string, unknown>, body: Record<string, unknown>, signer = key) => {
    const input = `${b64(header)}.${b64(body)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: signer, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  const header = () => ({ alg: 'ES256', kid: issuer.kid, typ: 'JWT' });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-token-'));
    issuer = LocalTokenIssuer.open(dir);
    key = createPrivateKey(readFileSync(join(dir, 'token-key.pem')));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('token-key.pem is created 0600 and kept; kid is its RFC 7638 thumbprint', () => {
    assert.equal(statSync(join(dir, 'token-key.pem')).mode & 0o777, 0o600);
    const again = LocalTokenIssuer.open(dir);
    assert.equal(again.kid, issuer.kid);
    assert.equal(issuer.kid, thumbprint(createPublicKey(key)));
    assert.match(issuer.kid, /^[A-Za-z0-9_-]{43}$/);
  });

  test('create → verify gives the identity; the claims are a Kubernetes service-account token', () => {
    const jwt = issuer.createToken({ namespace: 'default', serviceAccount: 'reviews', ttlSeconds: 3600 });
    assert.deepEqual(issuer.verifyToken(jwt, 'istio-ca'), { namespace: 'default', serviceAccount: 'reviews' });
    const [h, c] = jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p!, 'base64url').toString()));
    assert.deepEqual(h, { alg: 'ES256', kid: issuer.kid, typ: 'JWT' });
    assert.equal(c.sub, 'system:serviceaccount:default:reviews');
    assert.deepEqual(c.aud, ['istio-ca']);
    assert.deepEqual(c['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'reviews' } });
    assert.equal(c.exp - c.iat, 3600);
    assert.ok(Math.abs(c.iat - now()) <= 2);
    // Another audience is honoured when asked for.
    const other = issuer.createToken({ namespace: 'ns1', serviceAccount: 'sa.one', ttlSeconds: 60, audience: 'other' });
    assert.deepEqual(issuer.verifyToken(other, 'other'), { namespace: 'ns1', serviceAccount: 'sa.one' });
  });

  test('expired and not-yet-valid tokens are refused', () => {
    assert.throws(() => issuer.verifyToken(es256(header(), claims({ exp: now() - 5 })), 'istio-ca'), code('TOKEN_EXPIRED', /expired at .*\(5s ago\)/));
    assert.throws(() => issuer.verifyToken(es256(header(), claims({ nbf: now() + 3600 })), 'istio-ca'), code('TOKEN_NOT_YET_VALID'));
    assert.throws(() => issuer.verifyToken(es256(header(), claims({ exp: undefined })), 'istio-ca'), code('TOKEN_CLAIMS', /no exp/));
  });

  test('a token for another audience is refused', () => {
    const jwt = issuer.createToken({ namespace: 'default', serviceAccount: 'reviews', ttlSeconds: 60, audience: 'kubernetes' });
    assert.throws(() => issuer.verifyToken(jwt, 'istio-ca'), code('TOKEN_AUDIENCE', /\["kubernetes"\] does not include istio-ca/));
    assert.throws(() => issuer.verifyToken(es256(header(), claims({ aud: undefined })), 'istio-ca'), code('TOKEN_AUDIENCE'));
    assert.deepEqual(issuer.verifyToken(es256(header(), claims({ aud: 'istio-ca' })), 'istio-ca').namespace, 'default', 'a string aud is one audience');
  });

  test('tampered claims, another key and a truncated signature fail the signature check', () => {
    const jwt = issuer.createToken({ namespace: 'default', serviceAccount: 'reviews', ttlSeconds: 60 });
    const [h, , s] = jwt.split('.');
    const swapped = `${h}.${b64(claims({ sub: 'system:serviceaccount:kube-system:admin', 'kubernetes.io': undefined }))}.${s}`;
    assert.throws(() => issuer.verifyToken(swapped, 'istio-ca'), code('TOKEN_SIGNATURE', /does not verify/));
    const otherDir = mkdtempSync(join(tmpdir(), 'trellis-token-other-'));
    try {
      const foreign = LocalTokenIssuer.open(otherDir).createToken({ namespace: 'default', serviceAccount: 'reviews', ttlSeconds: 60 });
      assert.throws(() => issuer.verifyToken(foreign, 'istio-ca'), code('TOKEN_SIGNATURE', /unknown key/));
      // Same kid claimed, signed with the other key: still refused.
      const otherKey = createPrivateKey(readFileSync(join(otherDir, 'token-key.pem')));
      assert.throws(() => issuer.verifyToken(es256(header(), claims(), otherKey), 'istio-ca'), code('TOKEN_SIGNATURE', /does not verify/));
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    assert.throws(() => issuer.verifyToken(`${jwt.split('.').slice(0, 2).join('.')}.${s!.slice(0, 40)}`, 'istio-ca'), code('TOKEN_SIGNATURE'));
  });

  test('alg none and HS256 (keyed with the public key) are refused before any signature check', () => {
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    assert.throws(() => issuer.verifyToken(none, 'istio-ca'), code('TOKEN_ALG', /alg "none"/));
    const pubPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
    const input = `${b64({ alg: 'HS256', kid: issuer.kid, typ: 'JWT' })}.${b64(claims())}`;
    const hs = `${input}.${createHmac('sha256', pubPem).update(input).digest('base64url')}`;
    assert.throws(() => issuer.verifyToken(hs, 'istio-ca'), code('TOKEN_ALG', /"HS256" refused: only ES256/));
    assert.throws(() => issuer.verifyToken(es256({ alg: 'RS256', kid: issuer.kid }, claims()), 'istio-ca'), code('TOKEN_ALG'));
  });

  test('malformed tokens and bad subjects get their own codes', () => {
    for (const bad of ['', 'abc', 'a.b', 'a.b.c.d', '!!.??.xx', `${b64('not json')}.${b64(claims())}.x`, `${b64([1])}.${b64(claims())}.x`, 'x'.repeat(20_000)]) {
      assert.throws(() => issuer.verifyToken(bad, 'istio-ca'), code('TOKEN_MALFORMED'), bad.slice(0, 30));
    }
    for (const sub of ['admin', 'system:serviceaccount:default', 'system:serviceaccount:Default:x', 'system:serviceaccount:a/b:x', 'system:serviceaccount:ns:sa:extra']) {
      assert.throws(() => issuer.verifyToken(es256(header(), claims({ sub, 'kubernetes.io': undefined })), 'istio-ca'), code('TOKEN_CLAIMS'), sub);
    }
    assert.throws(() => issuer.verifyToken(es256(header(), claims({ iss: 'https://evil' })), 'istio-ca'), code('TOKEN_CLAIMS', /issuer/));
    assert.throws(() => issuer.verifyToken(es256(header(), claims({ 'kubernetes.io': { namespace: 'other', serviceaccount: { name: 'reviews' } } })), 'istio-ca'), code('TOKEN_CLAIMS', /disagree/));
    assert.throws(() => issuer.createToken({ namespace: 'Bad_NS', serviceAccount: 'x', ttlSeconds: 60 }), code('TOKEN_CLAIMS'));
  });

  test('a token bound to a pod and a node carries them as Kubernetes does, and verification returns them', () => {
    const jwt = issuer.createToken({ namespace: 'istio-system', serviceAccount: 'ztunnel', ttlSeconds: 60, pod: { name: 'ztunnel-1', uid: 'u-1' }, node: { name: 'node-a' } });
    const body = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { 'kubernetes.io': unknown };
    assert.deepEqual(body['kubernetes.io'], { namespace: 'istio-system', serviceaccount: { name: 'ztunnel' }, pod: { name: 'ztunnel-1', uid: 'u-1' }, node: { name: 'node-a' } });
    assert.deepEqual(issuer.verifyToken(jwt, 'istio-ca'), { namespace: 'istio-system', serviceAccount: 'ztunnel', pod: { name: 'ztunnel-1', uid: 'u-1' }, node: { name: 'node-a' } });
    const k8s = (extra: Record<string, unknown>) => claims({ 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'reviews' }, ...extra } });
    for (const bad of [{ pod: 'p' }, { pod: { name: 'Bad/Name' } }, { node: {} }, { node: { name: 'n', uid: 7 } }, { pod: { name: 'p', uid: '' } }]) {
      assert.throws(() => issuer.verifyToken(es256(header(), k8s(bad)), 'istio-ca'), code('TOKEN_CLAIMS'), JSON.stringify(bad));
    }
    assert.throws(() => issuer.createToken({ namespace: 'default', serviceAccount: 'x', ttlSeconds: 60, node: { name: '' } }), code('TOKEN_CLAIMS'));
  });

  test('a token key readable by others is refused; a missing CA directory is created', () => {
    const d = mkdtempSync(join(tmpdir(), 'trellis-token-mode-'));
    try {
      LocalTokenIssuer.open(d);
      chmodSync(join(d, 'token-key.pem'), 0o644);
      assert.throws(() => LocalTokenIssuer.open(d), code('CA_DIR', /chmod 600/));
      const fresh = LocalTokenIssuer.open(join(d, 'new', 'ca'));
      assert.equal(statSync(join(d, 'new', 'ca', 'token-key.pem')).mode & 0o777, 0o600);
      assert.notEqual(fresh.kid, LocalTokenIssuer.open(join(d, 'other')).kid, 'each directory has its own key');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
