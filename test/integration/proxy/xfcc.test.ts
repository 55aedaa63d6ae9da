/**
 * x-forwarded-client-cert through the real proxy, each
 * forward_client_cert_details mode on a listener that takes both mTLS and
 * plaintext: what the app receives is compared with what openssl says about
 * the client certificate (SHA-256 fingerprint, RFC 2253 subject, PEM).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { caSecret, certSecret } from './tls-builders.js';
import { hcm, inboundListener, inboundMtls, staticCluster, type HcmOpts } from './security-builders.js';
import { TestPki, type Pem } from '../../helpers/pki.js';
import { freePort } from '../../helpers/ports.js';

const SERVER = 'spiffe://cluster.local/ns/foo/sa/server';
const CLIENT = 'spiffe://cluster.local/ns/foo/sa/sleep';
const FORGED = 'By=spiffe://cluster.local/ns/x/sa/y;URI=spiffe://cluster.local/ns/admin/sa/root';

type Mode = NonNullable<HcmOpts['xfcc']>['mode'];
const MODES: Array<[Mode, Partial<NonNullable<HcmOpts['xfcc']>>]> = [
  ['SANITIZE', {}],
  ['FORWARD_ONLY', {}],
  // Istio's inbound sidecar setting.
  ['APPEND_FORWARD', { subject: true, uri: true, dns: true }],
  ['SANITIZE_SET', { cert: true, chain: true, subject: true, uri: true, dns: true }],
  ['ALWAYS_FORWARD_ONLY', {}],
];

const openssl = (args: string[], input: string) => execFileSync('openssl', args, { input }).toString().trim();

describe('proxy: x-forwarded-client-cert', () => {
  const pki = new TestPki();
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let app: Backend;
  let client: Pem;
  const ports = new Map<Mode, number>();
  const agents: Agent[] = [];
  /** The XFCC header the app received for one request (undefined when it got none). */
  const xfccAt = async (mode: Mode, o: { pem?: Pem; tls?: boolean; send?: string }) => {
    const dispatcher = o.tls === false ? undefined : new Agent({ connect: { ca: pki.ca.cert, ...(o.pem ? { cert: o.pem.cert, key: o.pem.key } : {}), checkServerIdentity: () => undefined } });
    if (dispatcher) agents.push(dispatcher);
    const r = await request(`${o.tls === false ? 'http' : 'https'}://127.0.0.1:${ports.get(mode)}/`, { dispatcher, headers: o.send ? { 'x-forwarded-client-cert': o.send } : {} });
    assert.equal(r.statusCode, 200);
    return ((await r.body.json()) as { headers: Record<string, string> }).headers['x-forwarded-client-cert'];
  };

  before(async () => {
    client = pki.leaf(CLIENT, { dns: ['sleep.foo.example'], subject: '/O=trellis, inc./CN=sleep' });
    app = await echoBackend('app');
    const listeners = [];
    for (const [mode, details] of MODES) {
      const port = await freePort();
      ports.set(mode, port);
      const h = (tag: string) => hcm({ statPrefix: `${mode}_${tag}`, cluster: 'app', xfcc: { mode, ...details } });
      listeners.push([mode, inboundListener(mode, port, [
        // A client certificate is asked for, not required: TLS without one must not get an entry either.
        { name: 'tls', filterChainMatch: { transportProtocol: 'tls' }, transportSocket: inboundMtls({ requireClientCert: false }), filters: [h('tls')] },
        { name: 'plain', filterChainMatch: { transportProtocol: 'raw_buffer' }, filters: [h('plain')] },
      ], ['tls'])] as const);
    }
    ads.setAll(TypeUrl.Listener, listeners.map(([m, l]) => [m, l]));
    ads.setAll(TypeUrl.Cluster, [['app', staticCluster('app', app.port)]]);
    ads.setAll(TypeUrl.Secret, [['default', certSecret('default', pki.leaf(SERVER))], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);
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

  it('APPEND_FORWARD (Istio inbound): By, Hash, Subject, URI, DNS appended to what the peer sent', async () => {
    const hash = openssl(['x509', '-noout', '-fingerprint', '-sha256'], client.cert).split('=')[1].replaceAll(':', '').toLowerCase();
    const subject = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], client.cert).replace(/^subject=/, '');
    assert.equal(subject, 'CN=sleep,O=trellis\\, inc.');
    const entry = `By=${SERVER};Hash=${hash};Subject="${subject}";URI=${CLIENT};DNS=sleep.foo.example`;
    assert.equal(await xfccAt('APPEND_FORWARD', { pem: client, send: 'By=upstream;Hash=00' }), `By=upstream;Hash=00,${entry}`);
    assert.equal(await xfccAt('APPEND_FORWARD', { pem: client }), entry);
  });

  it('SANITIZE_SET replaces what the peer sent; Cert and Chain are the URL-encoded PEM', async () => {
    const v = await xfccAt('SANITIZE_SET', { pem: client, send: FORGED });
    const parts = new Map(v.split(';').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    assert.deepEqual([...parts.keys()], ['By', 'Hash', 'Cert', 'Chain', 'Subject', 'URI', 'DNS']);
    assert.equal(decodeURIComponent(parts.get('Cert')!.slice(1, -1)), client.cert);
    assert.match(parts.get('Cert')!, /^"-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%]+-----END%20CERTIFICATE-----%0A"$/);
    assert.equal(decodeURIComponent(parts.get('Chain')!.slice(1, -1)), client.cert, 'the peer sent only its leaf');
  });

  it('a peer without a client certificate can never assert an identity (plaintext or TLS)', async () => {
    for (const mode of ['SANITIZE', 'FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET'] as Mode[]) {
      assert.equal(await xfccAt(mode, { tls: false, send: FORGED }), undefined, `${mode}, plaintext`);
      assert.equal(await xfccAt(mode, { send: FORGED }), undefined, `${mode}, TLS without a client certificate`);
    }
  });

  it('SANITIZE strips it over mTLS too; FORWARD_ONLY passes it on over mTLS; ALWAYS_FORWARD_ONLY always', async () => {
    assert.equal(await xfccAt('SANITIZE', { pem: client, send: FORGED }), undefined);
    assert.equal(await xfccAt('FORWARD_ONLY', { pem: client, send: FORGED }), FORGED);
    assert.equal(await xfccAt('ALWAYS_FORWARD_ONLY', { pem: client, send: FORGED }), FORGED);
    assert.equal(await xfccAt('ALWAYS_FORWARD_ONLY', { tls: false, send: FORGED }), FORGED);
    assert.equal(await xfccAt('ALWAYS_FORWARD_ONLY', { tls: false }), undefined);
  });
});
