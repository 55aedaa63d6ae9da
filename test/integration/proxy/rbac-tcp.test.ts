/**
 * The network RBAC filter in the real proxy, in front of the TCP proxy as
 * istiod places it for TCP ports: a denied connection is closed before the
 * upstream sees a connection, counted as tcp.rbac.denied and logged with the
 * policy in %CONNECTION_TERMINATION_DETAILS%.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startProxy, type RunningProxy } from './harness.js';
import { caSecret, certSecret } from './tls-builders.js';
import { allow, deny, inboundListener, inboundMtls, istioPolicy, networkRbac, staticCluster, tcpProxy } from './security-builders.js';
import { TestPki, type Pem } from '../../helpers/pki.js';
import { freePort } from '../../helpers/ports.js';

const SLEEP = 'cluster.local/ns/foo/sa/sleep';
const LOG = 'tcp %DOWNSTREAM_REMOTE_ADDRESS% peer=%DOWNSTREAM_PEER_URI_SAN% term=%CONNECTION_TERMINATION_DETAILS%\n';

/** Sends `text`, resolves with what came back before the connection closed (bounded by a timer). */
function exchange(s: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= text.length) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.write(text);
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

describe('proxy: network RBAC in front of the TCP proxy', () => {
  const pki = new TestPki();
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let sleep: Pem;
  let other: Pem;
  let plainPort = 0;
  let mtlsPort = 0;
  let accepted = 0;
  /** The upstream: echoes bytes upper-cased and counts the connections it ever accepted. */
  const echo: Server = createServer((c) => {
    accepted++;
    c.on('data', (d: Buffer) => c.write(d.toString().toUpperCase()));
    c.on('error', () => undefined);
  });
  const stat = async (name: string) => Number(new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec((await proxy.admin('/stats')).body)?.[1] ?? 0);

  before(async () => {
    sleep = pki.leaf(`spiffe://${SLEEP}`);
    other = pki.leaf('spiffe://cluster.local/ns/bar/sa/other');
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    [plainPort, mtlsPort] = await Promise.all([freePort(), freePort()]);
    ads.setAll(TypeUrl.Listener, [
      ['plain', inboundListener('plain', plainPort, [{
        name: 'tcp-plain',
        filters: [
          networkRbac(deny({ 'ns[foo]-policy[deny-3]-rule[0]': istioPolicy({ ipBlocks: ['127.0.0.3/32'] }) })),
          networkRbac(allow({ 'ns[foo]-policy[allow-local]-rule[0]': istioPolicy({ ipBlocks: ['127.0.0.0/8'], ports: [plainPort] }) })),
          tcpProxy('inbound_tcp', 'echo', LOG),
        ],
      }], [])],
      ['mtls', inboundListener('mtls', mtlsPort, [{
        name: 'tcp-mtls',
        filterChainMatch: { transportProtocol: 'tls' },
        transportSocket: inboundMtls({ alpn: [] }),
        filters: [networkRbac(allow({ 'ns[foo]-policy[allow-sleep]-rule[0]': istioPolicy({ principals: [SLEEP] }) })), tcpProxy('inbound_tcp_mtls', 'echo', LOG)],
      }], ['tls'])],
    ]);
    ads.setAll(TypeUrl.Cluster, [['echo', staticCluster('echo', (echo.address() as { port: number }).port)]]);
    ads.setAll(TypeUrl.Secret, [['default', certSecret('default', pki.leaf('spiffe://cluster.local/ns/foo/sa/server'))], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 10_000, 'proxy ready');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    echo.close();
    pki.remove();
  });

  it('an allowed source reaches the upstream; a denied one is closed and the upstream never sees it', async () => {
    const before = accepted;
    assert.equal(await exchange(connect({ port: plainPort, host: '127.0.0.1', localAddress: '127.0.0.2' }), 'hello'), 'HELLO');
    assert.equal(accepted, before + 1);
    assert.equal(await exchange(connect({ port: plainPort, host: '127.0.0.1', localAddress: '127.0.0.3' }), 'hello'), '');
    assert.equal(accepted, before + 1, 'no upstream connection for the denied client');
    await eventually(() => proxy.stdout().includes('tcp 127.0.0.3:'), 5000, 'the denied connection logged');
    assert.match(proxy.stdout(), /tcp 127\.0\.0\.3:\d+ peer=- term=rbac_access_denied_matched_policy\[ns\[foo\]-policy\[deny-3\]-rule\[0\]\]/);
    assert.match(proxy.stdout(), /tcp 127\.0\.0\.2:\d+ peer=- term=-/);
    assert.equal(await stat('tcp.rbac.denied'), 1);
    // Both filters count under the one "tcp." prefix: the allowed connection passed both, the denied one only reached the first.
    assert.equal(await stat('tcp.rbac.allowed'), 2);
  });

  it('over mTLS the principal decides, after the handshake and before the upstream is dialled', async () => {
    const before = accepted;
    const dial = (pem: Pem) => tlsConnect({ host: '127.0.0.1', port: mtlsPort, ca: pki.ca.cert, cert: pem.cert, key: pem.key, checkServerIdentity: () => undefined });
    assert.equal(await exchange(dial(sleep), 'over tls'), 'OVER TLS');
    assert.equal(await exchange(dial(other), 'over tls'), '');
    assert.equal(accepted, before + 1);
    await eventually(() => /peer=spiffe:\/\/cluster\.local\/ns\/bar\/sa\/other term=rbac_access_denied_matched_policy\[none\]/.test(proxy.stdout()), 5000, 'the denied principal logged');
    assert.match(proxy.stdout(), new RegExp(`peer=spiffe://${SLEEP} term=-`));
  });
});
