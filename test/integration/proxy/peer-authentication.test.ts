/**
 * PeerAuthentication on the listener side, with the filter chains istiod
 * builds for a port with protocol sniffing (tls_inspector + http_inspector):
 * PERMISSIVE takes mTLS HTTP, mTLS TCP, plaintext HTTP, plaintext TCP and
 * one-way TLS, each to its own chain; STRICT (only TLS chains) refuses
 * plaintext HTTP, raw bytes and a ClientHello without a client certificate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { caSecret, certSecret } from './tls-builders.js';
import { hcm, inboundListener, inboundMtls, MTLS_HTTP_ALPNS, MTLS_TCP_ALPNS, PLAINTEXT_HTTP_ALPNS, staticCluster, tcpProxy } from './security-builders.js';
import { TestPki, type Pem } from '../../helpers/pki.js';
import { freePort } from '../../helpers/ports.js';

const CLIENT = 'spiffe://cluster.local/ns/foo/sa/sleep';
const httpLog = (chain: string) => `chain=${chain} %REQ(:PATH)% peer=%DOWNSTREAM_PEER_URI_SAN%\n`;
const tcpLog = (chain: string) => `chain=${chain} peer=%DOWNSTREAM_PEER_URI_SAN% sni=%REQUESTED_SERVER_NAME%\n`;

/** Writes `text` on a connected socket; resolves with all it got back before close (or after 3 s). */
function talk(s: Socket, text: string | undefined, endOn?: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (endOn?.test(got)) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    if (text !== undefined) s.write(text);
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

function tlsTalk(port: number, o: ConnectionOptions, text: string, endOn?: RegExp): Promise<{ got: string; alpn: string | false; error: string | undefined; reused: boolean; session: Buffer | undefined }> {
  return new Promise((resolve) => {
    let error: string | undefined;
    let session: Buffer | undefined;
    let reused = false;
    const s: TLSSocket = tlsConnect({ host: '127.0.0.1', port, checkServerIdentity: () => undefined, ...o });
    s.on('session', (b: Buffer) => (session = b));
    s.on('error', (e) => (error = e.message));
    s.once('secureConnect', () => {
      // Read now: the answer is gone with the handle once the socket closes.
      reused = s.isSessionReused();
      s.write(text);
    });
    let got = '';
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (endOn?.test(got)) s.end();
    });
    s.on('close', () => resolve({ got, alpn: s.alpnProtocol ?? false, error, reused, session }));
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

describe('proxy: PeerAuthentication on the listener (istiod\'s inbound chains)', () => {
  const pki = new TestPki();
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let app: Backend;
  let appSeen = 0;
  let client: Pem;
  let permissive = 0;
  let strict = 0;
  let echoSeen = 0;
  const echo: Server = createServer((c) => {
    echoSeen++;
    c.on('data', (d: Buffer) => c.write(d.toString('latin1').toUpperCase()));
    c.on('error', () => undefined);
  });
  /** The app's own TLS server behind the passthrough chain. */
  let appTls: TlsServer;
  const http = (path: string, v = '1.1') => `GET ${path} HTTP/${v}\r\nhost: app\r\nconnection: close\r\n\r\n`;

  before(async () => {
    client = pki.leaf(CLIENT);
    app = await startBackend((req, res) => {
      appSeen++;
      res.end(`app saw ${req.url}`);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const appCert = new TestPki('the app\'s own CA');
    const appPem = appCert.leaf('spiffe://app-own-tls');
    appTls = createTlsServer({ cert: appPem.cert, key: appPem.key }, (s) => s.end('passthrough-ok'));
    appCert.remove();
    await new Promise<void>((r) => appTls.listen(0, '127.0.0.1', r));
    [permissive, strict] = await Promise.all([freePort(), freePort()]);
    const h = (chain: string) => hcm({ statPrefix: chain, cluster: 'app', accessLog: httpLog(chain) });
    ads.setAll(TypeUrl.Listener, [
      // inboundPermissiveFilterChainMatchWithMxcOptions, in istiod's order.
      ['permissive', inboundListener('permissive', permissive, [
        { name: 'http-mtls', filterChainMatch: { destinationPort: permissive, transportProtocol: 'tls', applicationProtocols: MTLS_HTTP_ALPNS }, transportSocket: inboundMtls({ alpn: ['h2', 'http/1.1'] }), filters: [h('http-mtls')] },
        { name: 'http-plain', filterChainMatch: { destinationPort: permissive, transportProtocol: 'raw_buffer', applicationProtocols: PLAINTEXT_HTTP_ALPNS }, filters: [h('http-plain')] },
        { name: 'tcp-mtls', filterChainMatch: { destinationPort: permissive, transportProtocol: 'tls', applicationProtocols: MTLS_TCP_ALPNS }, transportSocket: inboundMtls({ alpn: MTLS_TCP_ALPNS }), filters: [tcpProxy('tcp-mtls', 'echo', tcpLog('tcp-mtls'))] },
        { name: 'tcp-plain', filterChainMatch: { destinationPort: permissive, transportProtocol: 'raw_buffer' }, filters: [tcpProxy('tcp-plain', 'echo', tcpLog('tcp-plain'))] },
        { name: 'tls-passthrough', filterChainMatch: { destinationPort: permissive, transportProtocol: 'tls' }, filters: [tcpProxy('tls-passthrough', 'app-tls', tcpLog('tls-passthrough'))] },
      ])],
      // inboundStrictFilterChainMatchOptions.
      ['strict', inboundListener('strict', strict, [
        { name: 'http-mtls', filterChainMatch: { destinationPort: strict, transportProtocol: 'tls', applicationProtocols: MTLS_HTTP_ALPNS }, transportSocket: inboundMtls({ alpn: ['h2', 'http/1.1'] }), filters: [h('strict-http')] },
        { name: 'tcp-mtls', filterChainMatch: { destinationPort: strict, transportProtocol: 'tls' }, transportSocket: inboundMtls({ alpn: MTLS_TCP_ALPNS }), filters: [tcpProxy('strict-tcp', 'echo', tcpLog('strict-tcp'))] },
      ])],
    ]);
    ads.setAll(TypeUrl.Cluster, [
      ['app', staticCluster('app', app.port)],
      ['echo', staticCluster('echo', (echo.address() as { port: number }).port)],
      ['app-tls', staticCluster('app-tls', (appTls.address() as { port: number }).port)],
    ]);
    ads.setAll(TypeUrl.Secret, [['default', certSecret('default', pki.leaf('spiffe://cluster.local/ns/foo/sa/server'))], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 10_000, 'proxy ready');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await app?.close();
    echo.close();
    appTls?.close();
    pki.remove();
  });

  describe('PERMISSIVE', () => {
    it('plaintext HTTP/1.1 takes the HTTP chain; HTTP/1.0 is not in istiod\'s list and is proxied as TCP', async () => {
      assert.match(await talk(connect(permissive, '127.0.0.1'), http('/plain')), /^HTTP\/1\.1 200[\s\S]*app saw \/plain$/);
      await eventually(() => proxy.stdout().includes('chain=http-plain /plain peer=-'), 5000, 'the plaintext HTTP chain');
      assert.equal(await talk(connect(permissive, '127.0.0.1'), http('/old', '1.0'), /\r\n\r\n$/), http('/old', '1.0').toUpperCase());
      await eventually(() => proxy.stdout().includes('chain=tcp-plain peer=-'), 5000, 'the plaintext TCP chain');
    });

    it('raw bytes take the plaintext TCP chain', async () => {
      assert.equal(await talk(connect(permissive, '127.0.0.1'), 'ping\n', /\n$/), 'PING\n');
    });

    it('mTLS with an Istio HTTP ALPN ("istio-http/1.1", "istio") takes the mTLS HTTP chain', async () => {
      const r = await tlsTalk(permissive, { ca: pki.ca.cert, cert: client.cert, key: client.key, ALPNProtocols: ['istio-http/1.1', 'istio'] }, http('/mtls'));
      assert.match(r.got, /^HTTP\/1\.1 200[\s\S]*app saw \/mtls$/, r.error);
      await eventually(() => proxy.stdout().includes(`chain=http-mtls /mtls peer=${CLIENT}`), 5000, 'the mTLS HTTP chain');
    });

    it('mTLS with the TCP ALPNs ("istio-peer-exchange", "istio") takes the mTLS TCP chain', async () => {
      const r = await tlsTalk(permissive, { ca: pki.ca.cert, cert: client.cert, key: client.key, ALPNProtocols: MTLS_TCP_ALPNS, servername: 'outbound_.80_._.app.foo.svc.cluster.local' }, 'over mtls\n', /\n$/);
      assert.equal(r.got, 'OVER MTLS\n', r.error);
      assert.equal(r.alpn, 'istio-peer-exchange');
      await eventually(() => proxy.stdout().includes(`chain=tcp-mtls peer=${CLIENT} sni=outbound_.80_._.app.foo.svc.cluster.local`), 5000, 'the mTLS TCP chain');
    });

    it('TLS the app speaks itself (no Istio ALPN) is passed through untouched', async () => {
      const r = await tlsTalk(permissive, { rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] }, 'hi');
      assert.equal(r.got, 'passthrough-ok', r.error);
      await eventually(() => proxy.stdout().includes('chain=tls-passthrough peer=-'), 5000, 'the passthrough chain');
    });
  });

  describe('STRICT: no plaintext fallback, ever', () => {
    const noChain = async () => Number(new RegExp(`^listener\\.127\\.0\\.0\\.1_${strict}\\.no_filter_chain_match: (\\d+)$`, 'm').exec((await proxy.admin('/stats')).body)?.[1] ?? 0);

    it('refuses plaintext HTTP: closed, no response, nothing reaches the app', async () => {
      const [app0, chains0] = [appSeen, await noChain()];
      assert.equal(await talk(connect(strict, '127.0.0.1'), http('/sneak')), '');
      assert.equal(appSeen, app0);
      assert.equal(await noChain(), chains0 + 1);
    });

    it('refuses raw bytes', async () => {
      const [echo0, chains0] = [echoSeen, await noChain()];
      assert.equal(await talk(connect(strict, '127.0.0.1'), 'raw\x00bytes\n'), '');
      assert.equal(echoSeen, echo0);
      assert.equal(await noChain(), chains0 + 1);
    });

    it('refuses a TLS ClientHello without a client certificate, on the HTTP and the TCP chain', async () => {
      const [app0, echo0] = [appSeen, echoSeen];
      for (const alpn of [['istio-http/1.1', 'istio'], MTLS_TCP_ALPNS, undefined]) {
        const r = await tlsTalk(strict, { ca: pki.ca.cert, ALPNProtocols: alpn }, http('/anonymous'));
        assert.equal(r.got, '', `${String(alpn)}: no response`);
        assert.ok(r.error, `${String(alpn)}: the handshake failed (${String(r.error)})`);
      }
      assert.deepEqual([appSeen, echoSeen], [app0, echo0]);
    });

    it('serves a client with a certificate, also when it resumes its TLS session', async () => {
      const o = { ca: pki.ca.cert, cert: client.cert, key: client.key, ALPNProtocols: ['istio-http/1.1', 'istio'] };
      const first = await tlsTalk(strict, o, http('/first'));
      assert.match(first.got, /^HTTP\/1\.1 200/, first.error);
      assert.ok(first.session, 'the server issued a session ticket');
      const again = await tlsTalk(strict, { ...o, session: first.session }, http('/resumed'));
      assert.equal(again.reused, true);
      assert.match(again.got, /^HTTP\/1\.1 200[\s\S]*app saw \/resumed$/, again.error);
      await eventually(() => proxy.stdout().includes(`chain=strict-http /resumed peer=${CLIENT}`), 5000, 'the resumed session keeps its peer identity');
      const tcp = await tlsTalk(strict, { ca: pki.ca.cert, cert: client.cert, key: client.key, ALPNProtocols: MTLS_TCP_ALPNS }, 'tcp\n', /\n$/);
      assert.equal(tcp.got, 'TCP\n');
    });
  });
});
