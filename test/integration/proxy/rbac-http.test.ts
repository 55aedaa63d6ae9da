/**
 * The HTTP RBAC filter in the real proxy, with policies shaped as istiod
 * builds them from AuthorizationPolicy (a DENY filter before an ALLOW filter,
 * a dry-run shadow): callers with real client certificates over mTLS, an
 * HTTP/2 caller, and a plaintext caller. Denied requests never reach the app.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { caSecret, certSecret } from './tls-builders.js';
import { allow, deny, hcm, httpRbac, inboundListener, inboundMtls, istioPolicy, staticCluster } from './security-builders.js';
import { TestPki, type Pem } from '../../helpers/pki.js';
import { freePort } from '../../helpers/ports.js';

const SLEEP = 'cluster.local/ns/foo/sa/sleep';
const OTHER = 'cluster.local/ns/bar/sa/other';
const LOG = '%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %REQ(:METHOD)% %REQ(:PATH)% peer=%DOWNSTREAM_PEER_URI_SAN%\n';

/** What istiod writes for: DENY paths /api/admin; ALLOW sleep GET|HEAD /info,/api/*; ALLOW ns bar /public with x-token: open; ALLOW 127.0.0.1 on /ip. */
function filters() {
  return [
    httpRbac(deny({ 'ns[foo]-policy[deny-admin]-rule[0]': istioPolicy({ paths: ['/api/admin'] }) })),
    httpRbac(allow({
      'ns[foo]-policy[allow-sleep]-rule[0]': istioPolicy({ principals: [SLEEP], methods: ['GET', 'HEAD'], paths: ['/info', '/api/*'] }),
      'ns[foo]-policy[allow-bar]-rule[0]': istioPolicy({ namespaces: ['bar'], paths: ['/public'], headers: { 'x-token': ['open'] } }),
      'ns[foo]-policy[allow-local]-rule[0]': istioPolicy({ ipBlocks: ['127.0.0.1/32'], paths: ['/ip'] }),
    }), { shadow: deny({ 'ns[foo]-policy[dry-run]-rule[0]': istioPolicy({ methods: ['HEAD'] }) }), shadowPrefix: 'istio_dry_run_allow_' }),
  ];
}

describe('proxy: HTTP RBAC (AuthorizationPolicy as istiod builds it)', () => {
  const pki = new TestPki();
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let app: Backend;
  let appSeen: string[] = [];
  let sleep: Pem;
  let other: Pem;
  let mtlsPort = 0;
  let plainPort = 0;
  const agents: Agent[] = [];
  const client = (pem: Pem, allowH2 = false) => {
    const a = new Agent({ allowH2, connect: { ca: pki.ca.cert, cert: pem.cert, key: pem.key, checkServerIdentity: () => undefined } });
    agents.push(a);
    return a;
  };
  const call = async (port: number, path: string, o: { method?: string; agent?: Agent; headers?: Record<string, string>; tls?: boolean } = {}) => {
    const r = await request(`${o.tls === false ? 'http' : 'https'}://127.0.0.1:${port}${path}`, { method: (o.method ?? 'GET') as 'GET', dispatcher: o.agent, headers: o.headers });
    return { status: r.statusCode, body: await r.body.text(), type: r.headers['content-type'] };
  };

  before(async () => {
    sleep = pki.leaf(`spiffe://${SLEEP}`);
    other = pki.leaf(`spiffe://${OTHER}`);
    app = await startBackend((req, res) => {
      appSeen.push(`${req.method} ${req.url}`);
      res.end('app');
    });
    [mtlsPort, plainPort] = await Promise.all([freePort(), freePort()]);
    ads.setAll(TypeUrl.Listener, [
      ['mtls', inboundListener('mtls', mtlsPort, [{ name: 'mtls-http', filterChainMatch: { transportProtocol: 'tls' }, transportSocket: inboundMtls(), filters: [hcm({ statPrefix: 'inbound_mtls', cluster: 'app', httpFilters: filters(), accessLog: LOG })] }])],
      ['plain', inboundListener('plain', plainPort, [{ name: 'plain-http', filters: [hcm({ statPrefix: 'inbound_plain', cluster: 'app', httpFilters: filters(), accessLog: LOG })] }], [])],
    ]);
    ads.setAll(TypeUrl.Cluster, [['app', staticCluster('app', app.port)]]);
    ads.setAll(TypeUrl.Secret, [['default', certSecret('default', pki.leaf('spiffe://cluster.local/ns/foo/sa/server'))], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 10_000, 'proxy ready');
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await proxy?.stop();
    ads.stop();
    await app?.close();
    pki.remove();
  });

  it('allows what an ALLOW policy matches; everything else gets Envoy\'s 403 and never reaches the app', async () => {
    const s = client(sleep);
    const o = client(other);
    appSeen = [];
    assert.deepEqual(await call(mtlsPort, '/info', { agent: s }), { status: 200, body: 'app', type: undefined });
    assert.equal((await call(mtlsPort, '/api/v1/items?x=1', { agent: s })).status, 200);
    const denied = { status: 403, body: 'RBAC: access denied', type: 'text/plain' };
    assert.deepEqual(await call(mtlsPort, '/info', { agent: s, method: 'POST' }), denied);
    assert.deepEqual(await call(mtlsPort, '/info', { agent: o }), denied);
    assert.deepEqual(await call(mtlsPort, '/public', { agent: o }), denied, 'the header condition is missing');
    assert.equal((await call(mtlsPort, '/public', { agent: o, headers: { 'x-token': 'open' } })).status, 200);
    assert.deepEqual(await call(mtlsPort, '/public', { agent: s, headers: { 'x-token': 'open' } }), denied, 'sleep is not in namespace bar');
    assert.deepEqual(appSeen, ['GET /info', 'GET /api/v1/items?x=1', 'GET /public']);
  });

  it('a matched DENY policy wins over an ALLOW one and is named in the response details', async () => {
    appSeen = [];
    const r = await call(mtlsPort, '/api/admin', { agent: client(sleep) });
    assert.deepEqual([r.status, r.body], [403, 'RBAC: access denied']);
    assert.deepEqual(appSeen, []);
    await eventually(() => proxy.stdout().includes(`403 - rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]] GET /api/admin peer=spiffe://${SLEEP}`), 5000, 'the DENY in the access log');
    assert.match(proxy.stdout(), new RegExp(`403 - rbac_access_denied_matched_policy\\[none\\] POST /info peer=spiffe://${SLEEP}`));
  });

  it('HTTP/2 requests are judged on their own pseudo-headers', async () => {
    const h2 = client(sleep, true);
    appSeen = [];
    assert.equal((await call(mtlsPort, '/info', { agent: h2 })).status, 200);
    assert.equal((await call(mtlsPort, '/info', { agent: h2, method: 'DELETE' })).status, 403);
    assert.deepEqual(appSeen, ['GET /info']);
    await eventually(() => proxy.stdout().includes('403 - rbac_access_denied_matched_policy[none] DELETE /info'), 5000, 'the HTTP/2 denial logged');
  });

  it('on plaintext there is no principal: principal rules never match, IP rules do', async () => {
    appSeen = [];
    assert.equal((await call(plainPort, '/info', { tls: false })).status, 403);
    assert.equal((await call(plainPort, '/ip', { tls: false })).status, 200);
    assert.deepEqual(appSeen, ['GET /ip']);
  });

  it('a denied gRPC call gets PERMISSION_DENIED with the message, trailers-only (Envoy maps 403 to 7)', async () => {
    const id = (b: Buffer) => b;
    const Client = makeGenericClientConstructor({ Say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, 'Echo');
    const c = new Client(`127.0.0.1:${plainPort}`, credentials.createInsecure()) as unknown as { Say(b: Buffer, o: object, cb: (e: ServiceError | null) => void): void; close(): void };
    try {
      const err = await new Promise<ServiceError | null>((resolve) => c.Say(Buffer.from('hi'), { deadline: Date.now() + 5000 }, resolve));
      assert.equal(err?.code, status.PERMISSION_DENIED);
      assert.equal(err?.details, 'RBAC: access denied');
    } finally {
      c.close();
    }
  });

  it('counts under Envoy\'s names, the shadow (dry-run) rules apart; istio_requests_total has the 403s', async () => {
    const stats = (await proxy.admin('/stats')).body;
    const n = (name: string) => Number(new RegExp(`^${name.replace(/[.[\]]/g, '\\$&')}: (\\d+)$`, 'm').exec(stats)?.[1] ?? 0);
    // Both filters of one connection manager count under its prefix (as in Envoy). Over mTLS so far: 10 requests;
    // the DENY filter denied 1 (/api/admin) and let 9 through; of those the ALLOW filter allowed 4 and denied 5.
    assert.equal(n('http.inbound_mtls.rbac.denied'), 6, stats);
    assert.equal(n('http.inbound_mtls.rbac.allowed'), 9 + 4);
    assert.equal(n('http.inbound_mtls.rbac.istio_dry_run_allow_shadow_allowed'), 9, 'no HEAD was sent: the dry-run DENY never matched');
    assert.equal(n('http.inbound_mtls.rbac.istio_dry_run_allow_shadow_denied'), 0);
    assert.equal(n('http.inbound_plain.rbac.denied'), 2, 'the plaintext /info and the gRPC call');
    const prom = (await proxy.admin('/stats/prometheus')).body;
    assert.match(prom, new RegExp(`istio_requests_total\\{reporter="destination"[^}]*source_principal="spiffe://${SLEEP}"[^}]*response_code="403",response_flags="-",connection_security_policy="mutual_tls"\\} [1-9]`));
  });

  it('a HEAD request makes the dry-run policy report a shadow denial without changing the verdict', async () => {
    const before = Number(/istio_dry_run_allow_shadow_denied: (\d+)/.exec((await proxy.admin('/stats')).body)?.[1] ?? 0);
    assert.equal((await call(mtlsPort, '/info', { agent: client(sleep), method: 'HEAD' })).status, 200);
    const afterCount = Number(/istio_dry_run_allow_shadow_denied: (\d+)/.exec((await proxy.admin('/stats')).body)?.[1] ?? 0);
    assert.equal(afterCount, before + 1);
  });

  it('/logging?rbac=debug logs each decision with its policy, as Envoy\'s rbac logger does', async () => {
    const s = client(sleep);
    await call(mtlsPort, '/api/admin', { agent: s });
    assert.doesNotMatch(proxy.stderr(), /enforced denied/);
    assert.equal((await proxy.admin('/logging?rbac=debug', 'POST')).status, 200);
    await call(mtlsPort, '/api/admin', { agent: s });
    await call(mtlsPort, '/info', { agent: s });
    await eventually(() => /enforced denied, matched policy ns\[foo\]-policy\[deny-admin\]-rule\[0\]/.test(proxy.stderr()), 5000, 'the denial in the debug log');
    await eventually(() => /enforced allowed, matched policy ns\[foo\]-policy\[allow-sleep\]-rule\[0\]/.test(proxy.stderr()), 5000, 'the allow in the debug log');
    assert.match(proxy.stderr(), /checking request .*uriSanPeerCertificate.*spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep/);
    assert.equal((await proxy.admin('/logging?rbac=warn', 'POST')).status, 200);
  });
});
