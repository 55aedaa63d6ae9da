/**
 * Auto-mTLS as istiod configures it: a cluster's transport_socket_matches
 * choose mTLS for endpoints whose EDS metadata says tlsMode "istio" and
 * plaintext for the rest. Two real proxies: the client proxy's cluster spans
 * a server sidecar (PERMISSIVE: tells mTLS from plaintext by its access log)
 * and an app without a sidecar (plaintext only).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { Agent, request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { caSecret, certSecret } from './tls-builders.js';
import { autoMtlsCluster, endpointsWithTlsMode, exact, hcm, inboundListener, inboundMtls, staticCluster, tcpProxy, upstreamMtls } from './security-builders.js';
import { httpListener, prefixRoute, routeConfig, tcpListener } from './xds-builders.js';
import { TestPki } from '../../helpers/pki.js';
import { freePort } from '../../helpers/ports.js';

const CLIENT = 'spiffe://cluster.local/ns/foo/sa/client';
const SERVER = 'spiffe://cluster.local/ns/foo/sa/server';

describe('proxy: auto-mTLS (transport_socket_matches on endpoint metadata)', () => {
  const pki = new TestPki();
  const clientAds = new FakeAdsServer();
  const serverAds = new FakeAdsServer();
  let client: RunningProxy;
  let server: RunningProxy;
  let sidecarApp: Backend;
  let bareApp: Backend;
  let bareSeen: string[] = [];
  let sidecarPort = 0;
  let sidecarTcpPort = 0;
  let outPort = 0;
  let tcpOutPort = 0;
  let sinkConnections = 0;
  const sink: Server = createServer((c) => { sinkConnections++; c.destroy(); });
  const echo: Server = createServer((c) => c.on('data', (d: Buffer) => c.write(d.toString().toUpperCase())));
  const agent = new Agent({ connections: 1 });
  const get = async (path: string) => {
    const r = await request(`http://127.0.0.1:${outPort}${path}`, { dispatcher: agent });
    return { status: r.statusCode, body: await r.body.text() };
  };
  const mtls = (certSecretName?: string) => upstreamMtls({ sans: [exact(SERVER)], certSecret: certSecretName });
  const setEndpoints = (name: string, eps: Array<{ port: number; tlsMode?: string }>, locality?: string) => {
    clientAds.set(TypeUrl.ClusterLoadAssignment, name, endpointsWithTlsMode(name, eps, locality));
    clientAds.push();
  };

  before(async () => {
    sidecarApp = await startBackend((req, res) => res.end(`sidecar app ${req.url}`));
    bareApp = await startBackend((req, res) => {
      bareSeen.push(`${req.method} ${req.url}`);
      res.end(`bare app ${req.url}`);
    });
    await Promise.all([new Promise<void>((r) => sink.listen(0, '127.0.0.1', r)), new Promise<void>((r) => echo.listen(0, '127.0.0.1', r))]);
    [sidecarPort, sidecarTcpPort, outPort, tcpOutPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);

    const log = (chain: string) => `${chain} %REQ(:PATH)% peer=%DOWNSTREAM_PEER_URI_SAN%\n`;
    serverAds.setAll(TypeUrl.Listener, [
      ['inbound', inboundListener('inbound', sidecarPort, [
        { name: 'mtls', filterChainMatch: { transportProtocol: 'tls' }, transportSocket: inboundMtls({ sans: [exact(CLIENT)] }), filters: [hcm({ statPrefix: 'in_mtls', cluster: 'app', accessLog: log('mtls') })] },
        { name: 'plain', filterChainMatch: { transportProtocol: 'raw_buffer' }, filters: [hcm({ statPrefix: 'in_plain', cluster: 'app', accessLog: log('plaintext') })] },
      ], ['tls'])],
      ['inbound-tcp', inboundListener('inbound-tcp', sidecarTcpPort, [
        { name: 'tcp', filterChainMatch: { transportProtocol: 'tls' }, transportSocket: inboundMtls({ alpn: [], sans: [exact(CLIENT)] }), filters: [tcpProxy('in_tcp', 'echo', 'tcp-in peer=%DOWNSTREAM_PEER_URI_SAN%\n')] },
      ], ['tls'])],
    ]);
    serverAds.setAll(TypeUrl.Cluster, [['app', staticCluster('app', sidecarApp.port)], ['echo', staticCluster('echo', (echo.address() as { port: number }).port)]]);
    serverAds.setAll(TypeUrl.Secret, [['default', certSecret('default', pki.leaf(SERVER))], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);

    clientAds.setAll(TypeUrl.Listener, [
      ['out', httpListener('out', 'out-routes', outPort, '%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER% %UPSTREAM_HOST%')],
      ['tcp-out', tcpListener('tcp-out', 'svc-tcp', tcpOutPort)],
    ]);
    clientAds.setAll(TypeUrl.RouteConfiguration, [['out-routes', routeConfig('out-routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/nosecret', 'nosecret'), prefixRoute('/locality', 'locality'), prefixRoute('/', 'svc')] }])]]);
    clientAds.setAll(TypeUrl.Cluster, [
      ['svc', autoMtlsCluster('svc', mtls())],
      ['svc-tcp', autoMtlsCluster('svc-tcp', upstreamMtls({ sans: [exact(SERVER)], alpn: [] }))],
      ['locality', autoMtlsCluster('locality', mtls(), { disabledMatch: false })],
    ]);
    clientAds.setAll(TypeUrl.ClusterLoadAssignment, [
      ['svc', endpointsWithTlsMode('svc', [{ port: sidecarPort, tlsMode: 'istio' }, { port: bareApp.port }])],
      ['svc-tcp', endpointsWithTlsMode('svc-tcp', [{ port: sidecarTcpPort, tlsMode: 'istio' }])],
      ['locality', endpointsWithTlsMode('locality', [{ port: sidecarPort }], 'istio')],
    ]);
    clientAds.setAll(TypeUrl.Secret, [['default', certSecret('default', pki.leaf(CLIENT))], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);

    await Promise.all([clientAds.start(), serverAds.start()]);
    [server, client] = await Promise.all([startProxy(serverAds.port), startProxy(clientAds.port)]);
    await eventually(async () => (await server.admin('/ready')).status === 200, 10_000, 'server proxy ready');
    await eventually(async () => (await client.admin('/ready')).status === 200, 10_000, 'client proxy ready');
  });

  after(async () => {
    await agent.close();
    await Promise.all([client?.stop(), server?.stop()]);
    clientAds.stop();
    serverAds.stop();
    await sidecarApp?.close();
    await bareApp?.close();
    sink.close();
    echo.close();
    pki.remove();
  });

  it('mTLS to the endpoint with a sidecar, plaintext to the one without, in one cluster', async () => {
    bareSeen = [];
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await get(`/r${i}`)).body);
    assert.deepEqual(bodies.filter((b) => b.startsWith('sidecar')).length, 2, bodies.join());
    assert.deepEqual(bareSeen.length, 2, 'the app without a sidecar got plain HTTP it could parse');
    const sidecarPaths = bodies.filter((b) => b.startsWith('sidecar')).map((b) => b.split(' ')[2]);
    for (const p of sidecarPaths) await eventually(() => server.stdout().includes(`mtls ${p} peer=${CLIENT}`), 5000, `${p} over mTLS`);
    assert.doesNotMatch(server.stdout(), /^plaintext /m);
  });

  it('an endpoint whose tlsMode changes gets a new pool: never a TLS connection reused as plaintext or back', async () => {
    setEndpoints('svc', [{ port: sidecarPort }]);
    await eventually(async () => {
      await get('/flip');
      return server.stdout().includes('plaintext /flip peer=-');
    }, 5000, 'plaintext to the sidecar once its tlsMode is gone');
    setEndpoints('svc', [{ port: sidecarPort, tlsMode: 'istio' }]);
    await eventually(async () => {
      await get('/flop');
      return server.stdout().includes(`mtls /flop peer=${CLIENT}`);
    }, 5000, 'mTLS again');
    assert.doesNotMatch(server.stdout(), /plaintext \/flop/);
  });

  it('locality metadata decides when the endpoint\'s own does not', async () => {
    assert.match((await get('/locality')).body, /^sidecar app/);
    await eventually(() => server.stdout().includes(`mtls /locality peer=${CLIENT}`), 5000, 'mTLS from the locality\'s tlsMode');
  });

  it('fails closed while the mTLS secret is missing: 503 UF for that endpoint only, never plaintext', async () => {
    // Added now: a secret that never comes would hold the proxy's readiness for Envoy's 15 s initial fetch timeout.
    clientAds.set(TypeUrl.Cluster, 'nosecret', autoMtlsCluster('nosecret', mtls('never-sent')));
    setEndpoints('nosecret', [{ port: (sink.address() as { port: number }).port, tlsMode: 'istio' }, { port: bareApp.port }]);
    await clientAds.waitFor((r) => r.typeUrl === TypeUrl.Secret && r.names.includes('never-sent'));
    await eventually(async () => (await get('/nosecret')).status === 200, 5000, 'the cluster and its endpoints in place');
    bareSeen = [];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('/nosecret')).status);
    assert.deepEqual(statuses.sort(), [200, 200, 503, 503]);
    assert.equal(bareSeen.length, 2);
    assert.equal(sinkConnections, 0, 'no connection at all to the mTLS endpoint');
    await eventually(() => /503 UF nosecret/.test(client.stdout()), 5000, 'UF in the access log');
  });

  it('the TCP proxy originates mTLS to a tlsMode istio endpoint too', async () => {
    const got = await new Promise<string>((resolve) => {
      const s = connect(tcpOutPort, '127.0.0.1', () => s.write('tcp over mtls'));
      let data = '';
      s.on('data', (c: Buffer) => {
        data += c.toString();
        if (data.length >= 13) s.end();
      });
      s.on('close', () => resolve(data));
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 3000).unref();
    });
    assert.equal(got, 'TCP OVER MTLS');
    await eventually(() => server.stdout().includes(`tcp-in peer=${CLIENT}`), 5000, 'the server sidecar saw the client identity');
  });
});
