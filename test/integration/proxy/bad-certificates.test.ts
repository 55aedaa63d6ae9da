/**
 * Issue 9, "Bad input and security": expired, not-yet-valid, wrong trust
 * domain, wrong SAN and foreign-root certificates are refused at the
 * handshake — presented by a client to the proxy's inbound mTLS chain, and
 * by a server to the proxy's outbound ISTIO_MUTUAL cluster. Certificates are
 * made with openssl; a refused peer never gets a request through.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { caSecret, certSecret } from './tls-builders.js';
import { exact, hcm, inboundListener, inboundMtls, prefix, staticCluster, upstreamMtls } from './security-builders.js';
import { httpListener, prefixRoute, routeConfig } from './xds-builders.js';
import { TestPki, type LeafOptions, type Pem } from '../../helpers/pki.js';
import { freePort } from '../../helpers/ports.js';

const CLIENT = 'spiffe://cluster.local/ns/foo/sa/sleep';
const SERVER = 'spiffe://cluster.local/ns/foo/sa/server';
const DAY = 86_400_000;
const expired: LeafOptions = { notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) };
const notYetValid: LeafOptions = { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 2 * DAY) };

describe('proxy: bad certificates are refused at the handshake', () => {
  const pki = new TestPki();
  const foreign = new TestPki('a foreign root');
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let app: Backend;
  let appSeen = 0;

  before(async () => {
    app = await startBackend((_req, res) => {
      appSeen++;
      res.end('app');
    });
    await ads.start();
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await app?.close();
    pki.remove();
    foreign.remove();
  });

  describe('inbound: client certificates on the mTLS chain', () => {
    let trustDomainPort = 0;
    let exactSanPort = 0;
    const clients: Record<string, Pem> = {};
    /** One request over mTLS with `pem`: the response, or '' when the connection was refused. */
    const dial = (port: number, pem: Pem) => new Promise<{ got: string; error: string | undefined }>((resolve) => {
      let got = '';
      let error: string | undefined;
      const s = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca.cert, cert: pem.cert, key: pem.key, checkServerIdentity: () => undefined });
      s.once('secureConnect', () => s.write('GET /in HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n'));
      s.on('data', (c: Buffer) => (got += c.toString()));
      s.on('error', (e) => (error = e.message));
      s.on('close', () => resolve({ got, error }));
      setTimeout(() => s.destroy(), 3000).unref();
    });

    before(async () => {
      Object.assign(clients, {
        good: pki.leaf(CLIENT),
        expired: pki.leaf(CLIENT, expired),
        notYetValid: pki.leaf(CLIENT, notYetValid),
        wrongTrustDomain: pki.leaf('spiffe://evil.local/ns/foo/sa/sleep'),
        wrongSan: pki.leaf('spiffe://cluster.local/ns/foo/sa/intruder'),
        foreignRoot: foreign.leaf(CLIENT),
      });
      [trustDomainPort, exactSanPort] = await Promise.all([freePort(), freePort()]);
      const chain = (name: string, sans: ReturnType<typeof exact>[]) => [{ name, transportSocket: inboundMtls({ sans }), filters: [hcm({ statPrefix: name, cluster: 'app' })] }];
      ads.setAll(TypeUrl.Listener, [
        // The trust domain check istiod writes as a SAN prefix (with trust domain aliases), and an exact identity.
        ['trust-domain', inboundListener('trust-domain', trustDomainPort, chain('trust-domain', [prefix('spiffe://cluster.local/')]), [])],
        ['exact-san', inboundListener('exact-san', exactSanPort, chain('exact-san', [exact(CLIENT)]), [])],
      ]);
      ads.setAll(TypeUrl.Cluster, [['app', staticCluster('app', app.port)]]);
      ads.setAll(TypeUrl.Secret, [['default', certSecret('default', pki.leaf(SERVER))], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);
      proxy = await startProxy(ads.port);
      await eventually(async () => (await proxy.admin('/ready')).status === 200, 10_000, 'proxy ready');
    });

    it('a valid certificate is served (the control case)', async () => {
      for (const port of [trustDomainPort, exactSanPort]) assert.match((await dial(port, clients.good)).got, /^HTTP\/1\.1 200/);
    });

    const counter = async (name: string) => Number(new RegExp(`^listener\\.ssl\\.${name}: (\\d+)$`, 'm').exec((await proxy.admin('/stats')).body)?.[1] ?? 0);
    // The chain is judged by OpenSSL during the handshake, the SANs right after it; either way the proxy
    // closes the connection before it reads a byte of the request (node, like tls.Server, sends no alert).
    const cases = [
      ['expired', () => exactSanPort, 'fail_verify_error'],
      ['notYetValid', () => exactSanPort, 'fail_verify_error'],
      ['foreignRoot', () => exactSanPort, 'fail_verify_error'],
      ['wrongTrustDomain', () => trustDomainPort, 'fail_verify_san'],
      ['wrongSan', () => exactSanPort, 'fail_verify_san'],
    ] as const;
    for (const [name, port, why] of cases) {
      it(`refuses a client certificate that is ${name}`, async () => {
        const [seen, refused] = [appSeen, await counter(why)];
        const r = await dial(port(), clients[name]);
        assert.equal(r.got, '', `no response (${String(r.error)})`);
        assert.equal(appSeen, seen, 'nothing reached the app');
        assert.equal(await counter(why), refused + 1, `counted as ${why}`);
      });
    }

    it('the wrong SAN is only wrong where it is checked: the trust domain listener takes it', async () => {
      assert.match((await dial(trustDomainPort, clients.wrongSan)).got, /^HTTP\/1\.1 200/);
    });
  });

  describe('upstream: server certificates on an ISTIO_MUTUAL cluster', () => {
    const servers: TlsServer[] = [];
    const appBytes = new Map<string, number>();
    let outPort = 0;

    /** A "server sidecar" presenting `pem`; counts bytes of application data it ever receives. */
    async function server(name: string, pem: Pem): Promise<number> {
      appBytes.set(name, 0);
      const s = createTlsServer({ cert: pem.cert, key: pem.key, ca: pki.ca.cert, requestCert: true }, (c) => {
        c.on('data', (d: Buffer) => appBytes.set(name, appBytes.get(name)! + d.length));
        c.on('error', () => undefined);
        c.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nserver');
      });
      s.on('tlsClientError', () => undefined);
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return (s.address() as { port: number }).port;
    }

    before(async () => {
      const certs: Record<string, Pem> = {
        good: pki.leaf(SERVER),
        expired: pki.leaf(SERVER, expired),
        notYetValid: pki.leaf(SERVER, notYetValid),
        wrongTrustDomain: pki.leaf('spiffe://evil.local/ns/foo/sa/server'),
        wrongSan: pki.leaf('spiffe://cluster.local/ns/foo/sa/impostor'),
        foreignRoot: foreign.leaf(SERVER),
      };
      const clusters: Array<[string, ReturnType<typeof staticCluster>]> = [];
      for (const [name, pem] of Object.entries(certs)) {
        const port = await server(name, pem);
        // istiod's outbound SANs are the service's identities; the trust domain case checks only the domain.
        const sans = name === 'wrongTrustDomain' ? [prefix('spiffe://cluster.local/')] : [exact(SERVER)];
        clusters.push([name, staticCluster(name, port, { transportSocket: upstreamMtls({ sans, sni: `outbound_.80_._.${name}.foo.svc.cluster.local` }) })]);
      }
      outPort = await freePort();
      ads.setAll(TypeUrl.Listener, [['out', httpListener('out', 'out-routes', outPort, '%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER%')]]);
      ads.setAll(TypeUrl.RouteConfiguration, [['out-routes', routeConfig('out-routes', [{ name: 'all', domains: ['*'], routes: Object.keys(certs).map((n) => prefixRoute(`/${n}`, n)) }])]]);
      ads.setAll(TypeUrl.Cluster, clusters);
      ads.setAll(TypeUrl.Secret, [['default', certSecret('default', pki.leaf(CLIENT))], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);
      ads.push();
      await eventually(async () => (await request(`http://127.0.0.1:${outPort}/good`)).statusCode === 200, 10_000, 'the outbound listener');
    });

    after(() => {
      for (const s of servers) s.close();
    });

    it('a valid server certificate is used (the control case)', async () => {
      const r = await request(`http://127.0.0.1:${outPort}/good`);
      assert.deepEqual([r.statusCode, await r.body.text()], [200, 'server']);
      assert.ok(appBytes.get('good')! > 0);
    });

    for (const name of ['expired', 'notYetValid', 'wrongTrustDomain', 'wrongSan', 'foreignRoot']) {
      it(`refuses a server certificate that is ${name}: 503 UF, no request sent`, async () => {
        const r = await request(`http://127.0.0.1:${outPort}/${name}`);
        assert.deepEqual([r.statusCode, await r.body.text()], [503, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure']);
        assert.equal(appBytes.get(name), 0, 'the server never received a byte of the request');
        await eventually(() => proxy.stdout().includes(`503 UF ${name}`), 5000, 'UF in the access log');
      });
    }
  });
});
