/**
 * The jwt_authn filter in the real proxy, configured with what the control
 * plane's translator makes of two RequestAuthentications and an
 * AuthorizationPolicy (jwt_authn before RBAC, as istiod orders them), and
 * called by undici with tokens the test signs: valid (RS256, PS256, ES256,
 * EdDSA), expired, not yet valid, wrong issuer, wrong audience, tampered,
 * unknown kid, malformed, none. Rejected requests never reach the app.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { AuthorizationPolicy, JWTRule, RequestAuthentication } from '../../../src/config/objects.js';
import { jwtAuthnFilters } from '../../../src/controlplane/translate/authn/jwt-authn.js';
import { buildAuthzFilters } from '../../../src/controlplane/translate/authz/builder.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { hcm, inboundListener, staticCluster } from './security-builders.js';
import { freePort } from '../../helpers/ports.js';
import { TestIssuer, tampered } from '../../helpers/jwt-tokens.js';

const ISS = 'https://issuer.example';
const OTHER_ISS = 'other-issuer@example.com';
const LOG = '%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %REQ(:PATH)%\n';

const ra = (name: string, jwtRules: JWTRule[]): RequestAuthentication =>
  ({ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name, namespace: 'foo' }, spec: { jwtRules } });
const allow: AuthorizationPolicy = {
  apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'jwt', namespace: 'foo' },
  spec: {
    rules: [
      { from: [{ source: { requestPrincipals: [`${ISS}/subject`, `${OTHER_ISS}/acme`] } }] },
      { to: [{ operation: { paths: ['/public'] } }] },
      { to: [{ operation: { paths: ['/admin'] } }], when: [{ key: 'request.auth.claims[groups]', values: ['admin'] }] },
    ],
  },
};

describe('proxy: jwt_authn (RequestAuthentication as istiod builds it) before RBAC', () => {
  const ads = new FakeAdsServer();
  const issuer = new TestIssuer(ISS, ['RS256', 'PS256', 'ES256', 'EdDSA']);
  const other = new TestIssuer(OTHER_ISS, ['ES256'], 'o');
  const stranger = new TestIssuer(ISS, ['RS256']); // same kid names, other keys
  let proxy: RunningProxy;
  let app: Backend;
  let port = 0;

  const call = async (path: string, headers: Record<string, string> = {}) => {
    const r = await request(`http://127.0.0.1:${port}${path}`, { headers });
    const text = await r.body.text();
    const seen = r.statusCode === 200 ? (JSON.parse(text) as { headers: Record<string, string> }).headers : undefined;
    return { status: r.statusCode, body: text, challenge: r.headers['www-authenticate'], seen };
  };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  before(async () => {
    app = await echoBackend('app');
    port = await freePort();
    const authn = jwtAuthnFilters([
      ra('main', [{ issuer: ISS, audiences: ['bookstore'], jwks: issuer.jwks(), outputPayloadToHeader: 'x-jwt-payload', outputClaimToHeaders: [{ header: 'x-jwt-sub', claim: 'sub' }] }]),
      ra('partner', [{ issuer: OTHER_ISS, jwks: other.jwks(), fromHeaders: [{ name: 'x-partner-token', prefix: 'Token ' }], forwardOriginalToken: true }]),
    ], () => undefined);
    const authz = buildAuthzFilters([allow], 'cluster.local').http;
    ads.setAll(TypeUrl.Listener, [['in', inboundListener('in', port, [{ name: 'http', filters: [hcm({ statPrefix: 'inbound_jwt', cluster: 'app', httpFilters: [...authn, ...authz], accessLog: LOG })] }], [])]]);
    ads.setAll(TypeUrl.Cluster, [['app', staticCluster('app', app.port)]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 10_000, 'proxy ready');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await app?.close();
  });

  it('a valid token passes with its principal: the app gets the payload and claim headers, not the token', async () => {
    const token = issuer.token({ aud: 'bookstore' });
    const r = await call('/items', bearer(token));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.seen?.['authorization'], undefined, 'the token is removed unless forwarded');
    assert.equal(r.seen?.['x-jwt-sub'], 'subject');
    assert.equal(r.seen?.['x-jwt-payload'], token.split('.')[1]);
    assert.equal(JSON.parse(Buffer.from(r.seen!['x-jwt-payload']!, 'base64url').toString()).iss, ISS);
  });

  it('every supported signature algorithm of the key set verifies (RS256, PS256, ES256, EdDSA), audiences normalised', async () => {
    for (const index of [1, 2, 3]) assert.equal((await call('/items', bearer(issuer.token({ aud: ['https://bookstore/'] }, { index })))).status, 200, `key ${index}`);
    assert.equal((await call('/items?access_token=' + issuer.token({ aud: 'bookstore' }))).status, 200, 'the default query parameter');
  });

  it('a bad token is 401 with Envoy\'s reason and www-authenticate; a wrong audience is 403', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, number, string][] = [
      ['expired', issuer.token({ aud: 'bookstore', exp: now - 120 }), 401, 'Jwt is expired'],
      ['not yet valid', issuer.token({ aud: 'bookstore', nbf: now + 600 }), 401, 'Jwt not yet valid'],
      ['wrong issuer', issuer.token({ aud: 'bookstore', iss: 'https://evil.example' }), 401, 'Jwt issuer is not configured'],
      ['wrong audience', issuer.token({ aud: 'other' }), 403, 'Audiences in Jwt are not allowed'],
      ['bad signature', tampered(issuer.token({ aud: 'bookstore' })), 401, 'Jwt verification fails'],
      ['signed by another key with a known kid', stranger.token({ aud: 'bookstore' }), 401, 'Jwt verification fails'],
      ['unknown kid', issuer.token({ aud: 'bookstore' }, { header: { kid: 'nope' } }), 401, 'Jwks doesn\'t have key to match kid or alg from Jwt'],
      ['alg none', issuer.token({ aud: 'bookstore' }, { header: { alg: 'none' } }), 401, 'Jwt header [alg] field value is invalid'],
      ['malformed', 'abc.def', 401, 'Jwt is not in the form of Header.Payload.Signature'],
      ['header not JSON', 'bm9wZQ.e30.AA', 401, 'Jwt header is an invalid Base64url input or an invalid JSON'],
      ['payload not JSON', `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.bm9wZQ.AA`, 401, 'Jwt payload is an invalid Base64 or an invalid JSON'],
    ];
    const noToken = await call('/items', { authorization: 'Bearer %%%' });
    assert.deepEqual([noToken.status, noToken.body], [403, 'RBAC: access denied'], 'nothing token-like after the prefix: no token at all, as Envoy\'s extractor reads it');
    for (const [what, token, status, body] of cases) {
      const r = await call('/items', bearer(token));
      assert.deepEqual([r.status, r.body], [status, body], what);
      assert.equal(r.challenge, `Bearer realm="http://127.0.0.1:${port}/items", error="invalid_token"`, what);
    }
    await eventually(() => proxy.stdout().includes('401 jwt_authn_access_denied{Jwt_is_expired} /items'), 5000, 'the details in the access log');
  });

  it('within the 60 s clock skew an expired token still passes', async () => {
    assert.equal((await call('/items', bearer(issuer.token({ aud: 'bookstore', exp: Math.floor(Date.now() / 1000) - 30 })))).status, 200);
  });

  it('no token passes authentication and authorization decides: 403 without a principal, 200 where no principal is required', async () => {
    const r = await call('/items');
    assert.deepEqual([r.status, r.body], [403, 'RBAC: access denied']);
    assert.equal((await call('/public')).status, 200);
  });

  it('a second provider with its own header, prefix and forwardOriginalToken; request.auth.claims conditions', async () => {
    const partner = other.token({ sub: 'acme', groups: ['dev', 'admin'] });
    const r = await call('/items', { 'x-partner-token': `Token ${partner}` });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.seen?.['x-partner-token'], `Token ${partner}`, 'forwarded as it came');
    const bob = (groups: string[]) => ({ 'x-partner-token': `Token ${other.token({ sub: 'bob', groups })}` });
    assert.equal((await call('/items', bob(['admin']))).status, 403, 'bob is no principal the policy names');
    assert.equal((await call('/admin', bob(['dev', 'admin']))).status, 200, 'but his groups claim has admin');
    assert.equal((await call('/admin', bob(['dev']))).status, 403);
    assert.equal((await call('/items', { 'x-partner-token': `Token ${tampered(partner)}` })).status, 401);
    const misplaced = await call('/items', bearer(partner));
    assert.deepEqual([misplaced.status, misplaced.body], [401, 'Jwt issuer is not configured'], 'Authorization belongs to the first issuer only');
  });

  it('a client cannot pose as the filter: its own x-jwt-payload and x-jwt-sub are removed', async () => {
    const r = await call('/public', { 'x-jwt-payload': 'forged', 'x-jwt-sub': 'admin' });
    assert.equal(r.status, 200);
    assert.equal(r.seen?.['x-jwt-payload'], undefined);
    assert.equal(r.seen?.['x-jwt-sub'], undefined);
  });

  it('a CORS preflight is not asked for a token', async () => {
    const r = await request(`http://127.0.0.1:${port}/public`, { method: 'OPTIONS', headers: { origin: 'http://x', 'access-control-request-method': 'GET', authorization: 'Bearer garbage' } });
    await r.body.text();
    assert.equal(r.statusCode, 200);
  });
});
