/**
 * HBONE in the sidecar/waypoint proxy, configured only with Envoy resources shaped as
 * istiod generates them (hbone-builders.ts), against the real `trellis proxy` binary and
 * the HBONE client and server of src/ztunnel/hbone over loopback sockets:
 * - CONNECT termination: an HBONE client reaches an echo app through connect_terminate
 *   (HTTP/2 CONNECT over mTLS), the connect_authority filter state and the main_internal
 *   internal listener; the proxy's SPIFFE identity is what the client checks, the client's
 *   is what the proxy logs;
 * - origination: a sidecar's HTTP request to an ambient endpoint (an envoy_internal_address
 *   with original_dst metadata) leaves through connect_originate as an HBONE CONNECT with
 *   the workload's IP:port as :authority and the tunneling headers, the proxy's certificate
 *   from SDS, the server's SAN checked;
 * - a waypoint chain: HBONE in → an HTTP chain (header route, weighted split, L7 RBAC deny)
 *   → internal endpoints → HBONE out.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { PREFACE, settingsFrame } from '../../helpers/h2-raw.js';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { HboneClient, HboneRefusedError } from '../../../src/ztunnel/hbone/client.js';
import { HboneServer } from '../../../src/ztunnel/hbone/server.js';
import type { HboneRequest } from '../../../src/ztunnel/hbone/connect-request.js';
import type { SpiffeId } from '../../../src/ztunnel/hbone/spiffe-peer.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { CLIENT_ID, hbonePeers, pyHboneClient, pythonWithH2, readAll, SERVER_ID, type HbonePeers } from '../../helpers/hbone-peers.js';
import { spiffe } from '../../helpers/pki.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { httpListener, prefixRoute } from './xds-builders.js';
import { caSecret, certSecret } from './tls-builders.js';
import { deny, httpRbac, istioPolicy, staticCluster } from './security-builders.js';
import {
  connectAuthorityNetwork, connectOriginateCluster, connectTerminateListener, hboneSidecarCluster, hcmFilter, internalCluster, internalListener, originalDstCluster, tcpProxyFilter,
} from './hbone-builders.js';

const WAYPOINT_ID = spiffe('ambient', 'waypoint');
/** The service port the waypoint's HTTP chain is selected by (the CONNECT's authority port; nothing listens there). */
const SVC_PORT = 9080;
/** Debian's python3-h2 (in .ci/run's packages); without it the Python half of the first test is skipped. */
const python = pythonWithH2();

describe('HBONE in the proxy (istiod-shaped connect_terminate, internal listeners, connect_originate)', () => {
  let peers: HbonePeers;
  let ads: FakeAdsServer;
  let proxy: RunningProxy;
  let hboneServer: HboneServer;
  let v1: Backend;
  let v2: Backend;
  let h2app: http2.Http2Server;
  let terminatePort: number;
  let sidecarPort: number;
  let client: HboneClient;
  const seen: Array<{ peer: SpiffeId; request: HboneRequest }> = [];

  before(async () => {
    peers = await hbonePeers();
    const app = (name: string) => (req: http.IncomingMessage, res: http.ServerResponse) => res.end(`${name} ${req.url}`);
    [v1, v2] = [await startBackend(app('v1')), await startBackend(app('v2'))];
    h2app = http2.createServer((req, res) => res.end(`h2 ${req.url} HTTP/${req.httpVersion}`));
    await new Promise<void>((r) => h2app.listen(0, '127.0.0.1', r));
    const h2Port = (h2app.address() as AddressInfo).port;
    // The destination's node proxy: records who tunnels where, then dials the workload.
    hboneServer = new HboneServer({ certificate: peers.workload(peers.server), trustDomain: 'cluster.local', authorize: (peer, request) => (seen.push({ peer, request }), 'allow') });
    const hbonePort = (await hboneServer.listen(0)).port;
    const waypoint = peers.pki.leaf(WAYPOINT_ID);

    ads = new FakeAdsServer();
    await ads.start();
    const waypointHttp = hcmFilter('inbound-vip|9080|http|app.ambient.svc.cluster.local', [
      { match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: 'x-version', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'v2' } } } }] }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'app-v2' } } } },
      { match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'weightedClusters', value: { clusters: [{ name: 'app-v1', weight: 1 }, { name: 'app-v2', weight: 1 }] } } } } },
    ], [httpRbac(deny({ 'ns[ambient]-policy[no-admin]-rule[0]': istioPolicy({ paths: ['/admin*'] }) }))]);
    const listeners: Array<[string, Any]> = [
      // ztunnel's PING timing (10 s / 20 s) shortened so that a mute peer is dropped within the test.
      ['connect_terminate', connectTerminateListener({ [`127.0.0.1:${peers.refusedPort}`]: 'refused' }, { intervalMs: 300, timeoutMs: 600 })],
      ['connect_plain', connectTerminateListener({}, undefined, 'connect_plain')],
      ['main_internal', internalListener('main_internal', [
        { name: 'direct-tcp', filterChainMatch: { destinationPort: peers.echo.port }, filters: [tcpProxyFilter('direct-tcp', 'passthrough')] },
        { name: 'inbound-vip|9080|http|app', filterChainMatch: { destinationPort: SVC_PORT }, filters: [waypointHttp] },
        // Direct pod access over HTTP (istiod's "direct-http"): the pod's address travels as filter state to connect_originate.
        { name: 'direct-http', filterChainMatch: { destinationPort: v2.port }, filters: [connectAuthorityNetwork, hcmFilter('direct-http', [{ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'encap' } } } }])] },
      ])],
      ['connect_originate', internalListener('connect_originate', [{ filters: [tcpProxyFilter('connect_originate', 'connect_originate', { baggage: 'k8s.namespace.name=ambient' })] }])],
      // The same origination, but the cluster's validation context wants a peer of another namespace.
      ['connect_originate_elsewhere', internalListener('connect_originate_elsewhere', [{ filters: [tcpProxyFilter('connect_originate_elsewhere', 'connect_originate_elsewhere', {})] }])],
      ['sidecar_out', httpListener('sidecar_out', 'sidecar-routes')],
    ];
    ads.setAll(TypeUrl.Listener, listeners);
    ads.setAll(TypeUrl.RouteConfiguration, [['sidecar-routes', anyPack(RouteConfigurationSchema, create(RouteConfigurationSchema, {
      name: 'sidecar-routes', virtualHosts: [{ name: 'app', domains: ['*'], routes: [prefixRoute('/h2/', 'outbound|81||app.ambient.svc.cluster.local'), prefixRoute('/elsewhere/', 'elsewhere'), prefixRoute('/', 'outbound|80||app.ambient.svc.cluster.local')] }],
    }))]]);
    ads.setAll(TypeUrl.Cluster, [
      ['main_internal', internalCluster('main_internal', 'main_internal', [])],
      ['encap', internalCluster('encap', 'connect_originate', [])],
      ['passthrough', originalDstCluster('passthrough')],
      ['refused', staticCluster('refused', peers.refusedPort)],
      ['connect_originate', connectOriginateCluster(hbonePort, 'spiffe://cluster.local/ns/ambient/sa/')],
      ['app-v1', internalCluster('app-v1', 'connect_originate', [v1.port])],
      ['app-v2', internalCluster('app-v2', 'connect_originate', [v2.port])],
      ['outbound|80||app.ambient.svc.cluster.local', hboneSidecarCluster('outbound|80||app.ambient.svc.cluster.local', [v1.port])],
      ['outbound|81||app.ambient.svc.cluster.local', hboneSidecarCluster('outbound|81||app.ambient.svc.cluster.local', [h2Port], true)],
      ['connect_originate_elsewhere', connectOriginateCluster(hbonePort, 'spiffe://cluster.local/ns/elsewhere/', 'connect_originate_elsewhere')],
      ['elsewhere', hboneSidecarCluster('elsewhere', [v1.port], false, 'connect_originate_elsewhere')],
    ]);
    ads.setAll(TypeUrl.Secret, [['default', certSecret('default', waypoint)], ['ROOTCA', caSecret('ROOTCA', peers.pki.ca.cert)]]);
    proxy = await startProxy(ads.port);
    await proxy.ready();
    [terminatePort, sidecarPort] = [await proxy.listenerPort('connect_terminate'), await proxy.listenerPort('sidecar_out')];
    client = new HboneClient({ certificate: peers.workload(peers.client), identity: CLIENT_ID, connectTimeoutMs: 5_000 });
  });

  after(async () => {
    await client?.close();
    await proxy?.stop();
    ads?.stop();
    await hboneServer?.close();
    await Promise.all([v1?.close(), v2?.close(), new Promise((r) => (h2app ? h2app.close(r) : r(undefined)))]);
    await peers?.close();
  });

  /** A tunnel through the proxy's connect_terminate to 127.0.0.1:port, the proxy proving `expected`. */
  const tunnel = (port: number, expected = WAYPOINT_ID) =>
    client.connect({ address: '127.0.0.1', port: terminatePort, destination: { host: '127.0.0.1', port }, expectedIdentities: [expected] });

  /** One HTTP/1.1 request inside a fresh HBONE tunnel to the waypoint's service port (or `port`). */
  async function viaWaypoint(path: string, headers: Record<string, string> = {}, port = SVC_PORT): Promise<{ status: number; body: string }> {
    const t = await tunnel(port);
    return new Promise((resolve, reject) => {
      const req = http.request({ path, headers: { host: 'app.ambient.svc.cluster.local', connection: 'close', ...headers }, createConnection: () => t as never }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('terminates an HBONE CONNECT and reaches the app through an internal listener, both identities checked', async () => {
    const t = await tunnel(peers.echo.port);
    const echoed = readAll(t, 5_000);
    t.end('ping through the waypoint');
    // The echo app ends after our FIN: the reply proves half-close is passed on both ways, across the internal listener.
    assert.equal((await echoed).toString(), 'ping through the waypoint');
    // The proxy logs the client's SPIFFE id from its certificate: it was verified against ROOTCA.
    await eventually(() => proxy.stdout().includes(`terminate CONNECT 127.0.0.1:${peers.echo.port} 200 - ${CLIENT_ID}`), 3_000, () => `terminate log line in:\n${proxy.stdout()}`);
    // A CONNECT terminated straight into a TCP cluster whose endpoint refuses: 503 (UF), never a 200 first.
    await assert.rejects(tunnel(peers.refusedPort), (e: unknown) => e instanceof HboneRefusedError && e.status === 503);
    // An independent HTTP/2 stack (Debian's python3-h2) gets the same: TLS 1.3, h2, the proxy's SPIFFE leaf, the echo.
    if (python) {
      const py = await pyHboneClient(python, peers.client, peers.pki.ca.certFile, terminatePort, ['--authority', `127.0.0.1:${peers.echo.port}`, '--send', 'from python']);
      assert.deepEqual([py['tls'], py['alpn'], py['server_uri_sans'], py['status'], py['data']], ['TLSv1.3', 'h2', [WAYPOINT_ID], 200, 'from python']);
    }
    // A client that expects another identity than the proxy's certificate carries aborts in the handshake.
    await assert.rejects(tunnel(peers.echo.port, SERVER_ID), /server identity .*waypoint.* is not one of the expected/);
  });

  it('terminates an HTTP/1.1 CONNECT into the same internal listener (200, then the bytes, half-close)', async () => {
    const s = netConnect(await proxy.listenerPort('connect_plain'), '127.0.0.1');
    s.on('error', () => undefined);
    const target = `127.0.0.1:${peers.echo.port}`;
    s.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`);
    const head = await new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
    assert.match(head, /^HTTP\/1\.1 200 /);
    const rest = readAll(s, 5_000);
    s.end('over http/1.1');
    assert.equal((await rest).toString(), 'over http/1.1');
  });

  it("sends a sidecar's request to an ambient endpoint as HBONE: CONNECT IP:port with the tunneling headers, the proxy's SDS certificate", async () => {
    const from = seen.length;
    const r = await request(`http://127.0.0.1:${sidecarPort}/hello`);
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'v1 /hello');
    const hop = seen.slice(from).find((s) => s.request.destination.port === v1.port);
    assert.ok(hop, `the HBONE server saw no CONNECT to 127.0.0.1:${v1.port}`);
    assert.equal(hop.request.destination.host, '127.0.0.1');
    assert.equal(hop.request.baggage, 'k8s.namespace.name=ambient');
    assert.equal(hop.peer.uri, WAYPOINT_ID);
    // A server whose URI SAN the cluster's validation context does not accept: no CONNECT is sent, the request fails.
    const before = seen.length;
    const refused = await request(`http://127.0.0.1:${sidecarPort}/elsewhere/`);
    assert.equal(refused.statusCode, 503);
    await refused.body.text();
    assert.equal(seen.length, before, 'the HBONE server saw no CONNECT');
    await eventually(() => /connect_originate_elsewhere 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ UF/.test(proxy.stdout()), 3_000, 'a UF line for the refused server');
    // An HTTP/2 cluster: h2c inside the in-process connection, then inside the HBONE tunnel.
    const h2 = await request(`http://127.0.0.1:${sidecarPort}/h2/x`);
    assert.equal(await h2.body.text(), 'h2 /h2/x HTTP/2.0');
  });

  it('runs a waypoint chain: HBONE in, header route, weighted split and L7 RBAC deny, HBONE out', async () => {
    const from = seen.length;
    const denied = await viaWaypoint('/admin/users');
    assert.equal(denied.status, 403);
    assert.equal(denied.body, 'RBAC: access denied');
    const pinned = await Promise.all(Array.from({ length: 4 }, () => viaWaypoint('/pinned', { 'x-version': 'v2' })));
    assert.deepEqual(pinned.map((r) => r.body), Array(4).fill('v2 /pinned'));
    const split = await Promise.all(Array.from({ length: 16 }, () => viaWaypoint('/split')));
    const bodies = new Set(split.map((r) => r.body));
    assert.deepEqual([...bodies].sort(), ['v1 /split', 'v2 /split'], 'a 1:1 split sends 16 requests to both versions');
    // The requests left the waypoint as HBONE to the chosen versions' workloads (pooled connections: one tunnel may carry several).
    const out = seen.slice(from);
    assert.deepEqual([...new Set(out.map((s) => s.request.destination.port))].sort(), [v1.port, v2.port].sort());
    assert.ok(out.every((s) => s.peer.uri === WAYPOINT_ID));
    // A pod addressed directly: its address reaches connect_originate as filter state, on a pooled connection too.
    const direct = await Promise.all(Array.from({ length: 3 }, () => viaWaypoint('/direct', {}, v2.port)));
    assert.deepEqual(direct.map((r) => r.body), Array(3).fill('v2 /direct'));
  });

  it('drops an HTTP/2 peer that stops answering PINGs (http2_protocol_options.connection_keepalive)', async () => {
    const s = tlsConnect({ host: '127.0.0.1', port: terminatePort, cert: peers.client.cert, key: peers.client.key, ca: peers.pki.ca.cert, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined });
    s.on('error', () => undefined);
    await once(s, 'secureConnect');
    const started = Date.now();
    // The preface and SETTINGS, then silence: nothing the server sends is ever answered, its PINGs included.
    s.write(Buffer.concat([PREFACE, settingsFrame([])]));
    s.resume();
    const closed = once(s, 'close');
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the mute peer was not dropped in 5 s')), 5_000))]);
    assert.ok(Date.now() - started >= 600, 'dropped by the PING timeout, not at once');
  });

  it('shows the HBONE config in /config_dump as Envoy does, and the internal endpoints in /clusters', async () => {
    const dump = await proxy.admin('/config_dump');
    assert.equal(dump.status, 200);
    for (const t of ['envoy.extensions.bootstrap.internal_listener.v3.InternalListener', 'envoy.extensions.filters.http.set_filter_state.v3.Config',
      'envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport', 'envoy.extensions.filters.listener.original_dst.v3.OriginalDst']) {
      assert.ok(dump.body.includes(`"type.googleapis.com/${t}"`), `${t} in /config_dump`);
    }
    assert.match(dump.body, /"(internal_listener|internalListener)": \{\}/);
    const clusters = await proxy.admin('/clusters');
    assert.ok(clusters.body.includes(`app-v1::envoy://connect_originate/127.0.0.1:${v1.port}::`), clusters.body);
  });
});
