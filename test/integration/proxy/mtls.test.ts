/**
 * Two real proxies speaking Istio mTLS, configured only over xDS with SDS
 * secrets ("default" workload certificate, "ROOTCA" trust) made by the real
 * openssl: client → client proxy (UpstreamTlsContext) → server proxy
 * (DownstreamTlsContext, client certificate required) → plaintext backend.
 * openssl s_client checks the server side from outside: no plaintext, no
 * anonymous or foreign clients, certificate rotation over SDS reaching new
 * connections while established ones keep working, a bad secret NACKed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, ms, prefixRoute, rawCluster, routeConfig, tcpListener } from './xds-builders.js';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Server, ServerCredentials, credentials, makeGenericClientConstructor, status, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpProtocolOptionsSchema } from '../../../src/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { caSecret, certSecret, withDownstreamMtls, withUpstreamMtls } from './tls-builders.js';
import { spiffe, TestPki, type Pem } from '../../helpers/pki.js';
import { freePort } from '../../helpers/ports.js';

const CLIENT_ID = spiffe('default', 'client');
const id = (b: Buffer) => b;
const echoService = {
  Say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id },
} satisfies ServiceDefinition;

/** An EDS cluster whose upstream speaks HTTP/2 (gRPC). */
function h2Cluster(name: string) {
  const h2 = anyPack(HttpProtocolOptionsSchema, create(HttpProtocolOptionsSchema, {
    upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } },
  }));
  return rawCluster({
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
    connectTimeout: ms(1000),
    typedExtensionProtocolOptions: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': h2 },
  });
}
const SERVER_ID = spiffe('default', 'server');

/** openssl s_client against the server proxy: sends one HTTP/1.1 request, returns everything it printed. */
function sClient(port: number, args: string[], input = 'GET /via-openssl HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n'): Promise<string> {
  return new Promise((resolve) => {
    const p = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'app', '-ign_eof', ...args], { timeout: 10_000 }, (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
    p.stdin!.end(input);
  });
}

/** A plaintext request straight to the mTLS port: whatever comes back must not be HTTP. */
function plaintext(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: app\r\n\r\n'));
    let got = '';
    s.on('data', (c) => (got += c.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

describe('proxy: Istio mTLS between two sidecars (SDS)', () => {
  const pki = new TestPki();
  const foreign = new TestPki('someone else');
  let clientPem: Pem;
  let serverPem: Pem;
  const clientAds = new FakeAdsServer();
  const serverAds = new FakeAdsServer();
  let backend: Backend;
  let slow: Backend;
  const grpcServer = new Server();
  /** Echoes bytes back upper-cased: the TCP proxy behind a TLS-terminating filter chain. */
  const tcpEcho: TcpServer = createTcpServer((c) => c.on('data', (d: Buffer) => c.write(d.toString().toUpperCase())));
  let tcpInPort = 0;
  let slowSeen = 0;
  let client: RunningProxy;
  let server: RunningProxy;
  let inboundPort = 0;
  let outPort = 0;
  const agent = new Agent({ connections: 1 });
  const get = async (path: string) => {
    const r = await request(`http://127.0.0.1:${outPort}${path}`, { dispatcher: agent });
    return { status: r.statusCode, text: await r.body.text(), headers: r.headers };
  };

  before(async () => {
    clientPem = pki.leaf(CLIENT_ID);
    serverPem = pki.leaf(SERVER_ID);
    backend = await echoBackend('app');
    slow = await startBackend((_req, res) => {
      slowSeen++;
      setTimeout(() => res.end('slow done'), 300);
    });
    inboundPort = await freePort();
    tcpInPort = await freePort();
    await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', r));
    const tcpEchoPort = (tcpEcho.address() as { port: number }).port;
    grpcServer.addService(echoService, {
      Say: (call: { request: Buffer }, cb: (e: Partial<ServiceError> | null, r?: Buffer) => void) => {
        const t = call.request.toString();
        if (t === 'fail') cb({ code: status.NOT_FOUND, details: 'no such greeting' });
        else cb(null, Buffer.from(`hi ${t}`));
      },
    });
    const grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));

    serverAds.setAll(TypeUrl.Listener, [
      ['inbound', withDownstreamMtls(httpListener('inbound', 'in-routes', inboundPort, '%RESPONSE_CODE% peer=%DOWNSTREAM_PEER_URI_SAN% %REQ(:PATH)%'), { sans: [CLIENT_ID] })],
      ['tcp-in', withDownstreamMtls(tcpListener('tcp-in', 'tcp-echo', tcpInPort, 'tcp peer=%DOWNSTREAM_PEER_URI_SAN% in=%BYTES_RECEIVED%\n'), { sans: [CLIENT_ID], alpn: [] })],
    ]);
    serverAds.setAll(TypeUrl.RouteConfiguration, [['in-routes', routeConfig('in-routes', [{ name: 'app', domains: ['*'], routes: [prefixRoute('/slow', 'slow'), prefixRoute('/test.Echo/', 'grpc'), prefixRoute('/', 'app')] }])]]);
    serverAds.setAll(TypeUrl.Cluster, [['app', edsCluster('app')], ['slow', edsCluster('slow')], ['grpc', h2Cluster('grpc')], ['tcp-echo', edsCluster('tcp-echo')]]);
    serverAds.setAll(TypeUrl.ClusterLoadAssignment, [['app', endpoints('app', [backend.port])], ['slow', endpoints('slow', [slow.port])], ['grpc', endpoints('grpc', [grpcPort])], ['tcp-echo', endpoints('tcp-echo', [tcpEchoPort])]]);
    serverAds.setAll(TypeUrl.Secret, [['default', certSecret('default', serverPem)], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);

    clientAds.setAll(TypeUrl.Listener, [['out', httpListener('out', 'out-routes', 0, '%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER%')]]);
    clientAds.setAll(TypeUrl.RouteConfiguration, [['out-routes', routeConfig('out-routes', [{ name: 'server', domains: ['*'], routes: [prefixRoute('/test.Echo/', 'server-h2'), prefixRoute('/nosecret', 'nosecret'), prefixRoute('/', 'server')] }])]]);
    clientAds.setAll(TypeUrl.Cluster, [
      ['server', withUpstreamMtls(edsCluster('server'), { sans: [SERVER_ID], sni: 'outbound_.80_._.server.default.svc.cluster.local' })],
      ['server-h2', withUpstreamMtls(h2Cluster('server-h2'), { sans: [SERVER_ID] })],
    ]);
    clientAds.setAll(TypeUrl.ClusterLoadAssignment, [['server', endpoints('server', [inboundPort])], ['server-h2', endpoints('server-h2', [inboundPort])]]);
    clientAds.setAll(TypeUrl.Secret, [['default', certSecret('default', clientPem)], ['ROOTCA', caSecret('ROOTCA', pki.ca.cert)]]);

    await Promise.all([clientAds.start(), serverAds.start()]);
    [server, client] = await Promise.all([startProxy(serverAds.port), startProxy(clientAds.port)]);
    await eventually(async () => (await server.admin('/ready')).status === 200, 10_000, 'server proxy ready');
    await eventually(async () => (await client.admin('/ready')).status === 200, 10_000, 'client proxy ready');
    outPort = await client.listenerPort('out');
  });

  after(async () => {
    await agent.close();
    await Promise.all([client?.stop(), server?.stop()]);
    clientAds.stop();
    serverAds.stop();
    await backend?.close();
    await slow?.close();
    grpcServer.forceShutdown();
    tcpEcho.close();
    pki.remove();
    foreign.remove();
  });

  it('subscribes to the SDS secrets its listeners and clusters name', () => {
    for (const ads of [clientAds, serverAds]) {
      const names = new Set(ads.requests.filter((r) => r.typeUrl === TypeUrl.Secret).flatMap((r) => r.names));
      assert.deepEqual([...names].sort(), ['ROOTCA', 'default']);
    }
  });

  it('carries a request over mTLS; the server side knows the client by its SPIFFE id', async () => {
    const r = await get('/hello');
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).name, 'app');
    // Keep-alive: the client proxy's pooled TLS connection carries the next requests too.
    for (let i = 0; i < 3; i++) assert.equal((await get(`/again${i}`)).status, 200);
    await eventually(() => server.stdout().includes(`200 peer=${CLIENT_ID} /hello`), 5000, 'server access log with the peer SAN');
    const prom = (await server.admin('/stats/prometheus')).body;
    assert.match(prom, new RegExp(`istio_requests_total\\{reporter="destination"[^}]*source_principal="${CLIENT_ID}"[^}]*connection_security_policy="mutual_tls"`));
  });

  it('dumps its secrets in /config_dump as Envoy does: certificates shown, the private key redacted', async () => {
    const body = (await server.admin('/config_dump')).body;
    const dump = JSON.parse(body) as { configs: Array<{ '@type': string; dynamicActiveSecrets?: Array<{ name: string; secret: { tlsCertificate?: { certificateChain: { inlineBytes: string }; privateKey: { inlineString: string } } } }> }> };
    const secrets = dump.configs.find((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump')?.dynamicActiveSecrets ?? [];
    assert.deepEqual(secrets.map((x) => x.name).sort(), ['ROOTCA', 'default']);
    const def = secrets.find((x) => x.name === 'default')!.secret.tlsCertificate!;
    assert.equal(def.privateKey.inlineString, '[redacted]');
    assert.equal(Buffer.from(def.certificateChain.inlineBytes, 'base64').toString(), serverPem.cert);
    assert.ok(!body.includes(Buffer.from(serverPem.key).toString('base64').slice(0, 60)), 'no trace of the private key');
    assert.doesNotMatch(body, /PRIVATE KEY/);
  });

  it('lists the certificates in use on /certs: serial, SPIFFE SAN, expiry; no key', async () => {
    const body = (await server.admin('/certs')).body;
    const certs = JSON.parse(body) as { certificates: Array<{ ca_cert: Array<{ serial_number: string }>; cert_chain: Array<{ serial_number: string; subject_alt_names: Array<{ uri?: string }>; days_until_expiration: string; expiration_time: string }> }> };
    const serial = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase();
    const chain = certs.certificates.find((c) => c.cert_chain.length > 0)!.cert_chain[0]!;
    assert.equal(chain.serial_number, serial(serverPem.cert));
    assert.deepEqual(chain.subject_alt_names, [{ uri: SERVER_ID }]);
    assert.equal(chain.days_until_expiration, '0', 'a one-day certificate expires within the day');
    assert.equal(new Date(chain.expiration_time).getTime(), new Date(new X509Certificate(serverPem.cert).validTo).getTime());
    assert.equal(certs.certificates.find((c) => c.ca_cert.length > 0)!.ca_cert[0]!.serial_number, serial(pki.ca.cert));
    assert.doesNotMatch(body, /PRIVATE KEY|BEGIN/);
  });

  it('carries gRPC over HTTP/2 in mTLS between the sidecars, statuses and trailers included', async () => {
    const Client = makeGenericClientConstructor(echoService, 'Echo');
    const c = new Client(`127.0.0.1:${outPort}`, credentials.createInsecure()) as unknown as { Say(b: Buffer, o: object, cb: (e: ServiceError | null, r?: Buffer) => void): void; close(): void };
    const say = (t: string) => new Promise<{ err: ServiceError | null; resp?: Buffer }>((resolve) => c.Say(Buffer.from(t), { deadline: Date.now() + 5000 }, (err, resp) => resolve({ err, resp })));
    try {
      const ok = await say('mesh');
      assert.equal(ok.err, null, String(ok.err));
      assert.equal(ok.resp?.toString(), 'hi mesh');
      const bad = await say('fail');
      assert.equal(bad.err?.code, status.NOT_FOUND);
      assert.equal(bad.err?.details, 'no such greeting');
    } finally {
      c.close();
    }
    await eventually(() => server.stdout().includes(`200 peer=${CLIENT_ID} /test.Echo/Say`), 5000, 'the gRPC call in the server access log');
  });

  it('terminates mTLS in front of a TCP proxy: bytes both ways, half-close, the peer in the access log', async () => {
    const sock = tlsConnect({ host: '127.0.0.1', port: tcpInPort, ca: pki.ca.cert, cert: clientPem.cert, key: clientPem.key, checkServerIdentity: () => undefined });
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString()));
    await new Promise<void>((r, j) => sock.once('secureConnect', () => r()).once('error', j));
    sock.write('hello over tls\n');
    await eventually(() => got === 'HELLO OVER TLS\n', 5000, 'the echo through the TCP proxy');
    sock.end();
    await new Promise<void>((r) => sock.once('close', () => r()));
    await eventually(() => server.stdout().includes(`tcp peer=${CLIENT_ID} in=15`), 5000, 'the TCP access log line');
  });

  it('shows openssl the server certificate chain and SPIFFE id, and answers a verified client', async () => {
    const out = await sClient(inboundPort, ['-CAfile', pki.ca.certFile, '-cert', clientPem.certFile, '-key', clientPem.keyFile, '-verify_return_error', '-showcerts']);
    assert.match(out, /Verify return code: 0 \(ok\)|Verification: OK/);
    assert.match(out, /HTTP\/1\.1 200/);
    assert.match(out, /"path":"\/via-openssl"/);
    // The certificate the proxy presented is the "default" secret's.
    const x509 = await new Promise<string>((resolve) => {
      const p = execFile('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], (_e, so) => resolve(so));
      p.stdin!.end(out.slice(out.indexOf('-----BEGIN CERTIFICATE-----')));
    });
    assert.match(x509, new RegExp(`URI:${SERVER_ID}`));
  });

  it('refuses plaintext, clients without a certificate, and certificates of another CA', async () => {
    assert.doesNotMatch(await plaintext(inboundPort), /HTTP\/1\.1/);
    const anonymous = await sClient(inboundPort, ['-CAfile', pki.ca.certFile]);
    assert.doesNotMatch(anonymous, /HTTP\/1\.1 200/);
    const stranger = foreign.leaf(CLIENT_ID);
    const out = await sClient(inboundPort, ['-CAfile', pki.ca.certFile, '-cert', stranger.certFile, '-key', stranger.keyFile]);
    assert.doesNotMatch(out, /HTTP\/1\.1 200/);
  });

  it('refuses a client certificate from the right CA whose SPIFFE id is not allowed', async () => {
    const other = pki.leaf(spiffe('default', 'intruder'));
    const out = await sClient(inboundPort, ['-CAfile', pki.ca.certFile, '-cert', other.certFile, '-key', other.keyFile]);
    assert.doesNotMatch(out, /HTTP\/1\.1 200/);
  });

  it('fails with 503 UF when the server is not the identity the cluster expects', async () => {
    clientAds.set(TypeUrl.Cluster, 'server', withUpstreamMtls(edsCluster('server'), { sans: [spiffe('default', 'someone-else')] }));
    clientAds.push();
    try {
      await eventually(async () => (await get('/x')).status === 503, 5000, '503 after the SAN change');
      await eventually(() => /503 UF server/.test(client.stdout()), 5000, `UF in the client access log: ${client.stdout().slice(-300)}`);
    } finally {
      clientAds.set(TypeUrl.Cluster, 'server', withUpstreamMtls(edsCluster('server'), { sans: [SERVER_ID] }));
      clientAds.push();
    }
    await eventually(async () => (await get('/back')).status === 200, 5000, '200 again');
  });

  it('answers 503 UF, never plaintext and never a hang, while a cluster waits for its certificate', async () => {
    // The endpoint counts connections: none may arrive, in TLS or in plaintext.
    let connections = 0;
    const sink = createTcpServer((c) => { connections++; c.destroy(); });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    clientAds.set(TypeUrl.Cluster, 'nosecret', withUpstreamMtls(edsCluster('nosecret', { maxConnections: 1 }), { certSecret: 'never-sent' }));
    clientAds.set(TypeUrl.ClusterLoadAssignment, 'nosecret', endpoints('nosecret', [(sink.address() as { port: number }).port]));
    clientAds.push();
    await clientAds.waitFor((r) => r.typeUrl === TypeUrl.Secret && r.names.includes('never-sent'));
    await eventually(async () => (await get('/nosecret')).status === 503, 5000, 'the cluster is in place');
    const burst = new Agent({ connections: 8 });
    try {
      const all = await Promise.all(Array.from({ length: 6 }, () => request(`http://127.0.0.1:${outPort}/nosecret`, { dispatcher: burst }).then(async (r) => ({ status: r.statusCode, text: await r.body.text() }))));
      for (const r of all) assert.deepEqual(r, { status: 503, text: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure' });
    } finally {
      await burst.close();
      sink.close();
    }
    assert.equal(connections, 0);
  });

  it('rotates the server certificate over SDS: new connections get it, established ones keep working', async () => {
    assert.equal((await get('/before')).status, 200); // the client proxy's pooled upstream connection exists
    const serialOf = async () => {
      const out = await sClient(inboundPort, ['-CAfile', pki.ca.certFile, '-cert', clientPem.certFile, '-key', clientPem.keyFile]);
      const pem = out.slice(out.indexOf('-----BEGIN CERTIFICATE-----'), out.indexOf('-----END CERTIFICATE-----') + 25);
      return new Promise<string>((resolve) => {
        const p = execFile('openssl', ['x509', '-noout', '-serial'], (_e, so) => resolve(so.trim()));
        p.stdin!.end(pem);
      });
    };
    const before = await serialOf();
    const renewed = pki.leaf(SERVER_ID);
    serverAds.set(TypeUrl.Secret, 'default', certSecret('default', renewed));
    serverAds.push();
    await eventually(async () => (await serialOf()) !== before, 5000, 'a new serial for new connections');
    const after = await serialOf();
    assert.notEqual(after, before);
    const handshakes = async () => Number(/listener\.ssl\.handshake: (\d+)/.exec((await server.admin('/stats')).body)?.[1] ?? NaN);
    const h0 = await handshakes();
    assert.ok(h0 > 0, `listener.ssl.handshake counted (${h0})`);
    assert.equal((await get('/after')).status, 200);
    assert.equal(await handshakes(), h0, 'the request went over the connection established before the rotation');
    assert.match(server.stdout(), /200 peer=\S+ \/after/);
  });

  it('NACKs a secret whose key does not match its certificate and keeps serving with the last good one', async () => {
    const from = serverAds.requests.length;
    serverAds.set(TypeUrl.Secret, 'default', certSecret('default', { cert: serverPem.cert, key: clientPem.key }));
    serverAds.push();
    const nack = await serverAds.waitFor((r) => r.typeUrl === TypeUrl.Secret && r.errorDetail !== undefined, 5000, from);
    assert.match(nack.errorDetail!, /privateKey: does not match/);
    const out = await sClient(inboundPort, ['-CAfile', pki.ca.certFile, '-cert', clientPem.certFile, '-key', clientPem.keyFile]);
    assert.match(out, /HTTP\/1\.1 200/);
  });

  // Last: draining retires the server's listener.
  it('drains mTLS connections: a request in flight completes with connection: close, then a clean TLS close', async () => {
    const sock = tlsConnect({ host: '127.0.0.1', port: inboundPort, ca: pki.ca.cert, cert: clientPem.cert, key: clientPem.key, checkServerIdentity: () => undefined });
    let got = '';
    let error: Error | undefined;
    sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
    sock.on('error', (e) => (error = e));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    sock.write('GET /keep HTTP/1.1\r\nhost: app\r\n\r\n');
    await eventually(() => /HTTP\/1\.1 200[\s\S]*"path":"\/keep"/.test(got), 5000, 'the first response');
    got = '';
    sock.write('GET /slow HTTP/1.1\r\nhost: app\r\n\r\n');
    await eventually(() => slowSeen > 0, 5000, 'the slow request at the backend');
    assert.equal((await server.admin('/drain_listeners', 'POST')).status, 200);
    await closed;
    assert.equal(error, undefined, 'closed without a reset');
    assert.match(got, /^HTTP\/1\.1 200/);
    assert.match(got, /connection: close/i);
    assert.match(got, /slow done$/);
  });
});
