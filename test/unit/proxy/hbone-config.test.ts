/**
 * The pure parts of HBONE in the proxy: what istiod's config compiles to and what is
 * refused (set_filter_state format commands and factories, tunneling_config POST,
 * filter_chain_matcher, TLS inside internal_upstream), the ORIGINAL_DST destination
 * (header, metadata key — the waypoint override —, port override), an internal
 * listener's destination from metadata or filter state, typed SAN matchers, and the
 * in-process socket pair (back-pressure, half-close, reset).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { FilterStateValueSchema, FilterStateValue_SharedWithUpstream as Shared } from '../../../src/gen/envoy/extensions/filters/common/set_filter_state/v3/value_pb.js';
import { InternalUpstreamTransportSchema } from '../../../src/gen/envoy/extensions/transport_sockets/internal_upstream/v3/internal_upstream_pb.js';
import { UpstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SubjectAltNameMatcher_SanType } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { compileListener } from '../../../src/proxy/listener/listener-plan.js';
import { compileCluster } from '../../../src/proxy/upstream/cluster-plan.js';
import { compileTcpProxy } from '../../../src/proxy/tcp/tcp-plan.js';
import { applySetFilterState, compileSetFilterState, type StateSource } from '../../../src/proxy/internal/set-filter-state.js';
import { LOCAL_IP_KEY, sharedWithUpstream } from '../../../src/proxy/internal/filter-state.js';
import { compileUpstreamTransport } from '../../../src/proxy/internal/internal-upstream.js';
import { internalConnContext } from '../../../src/proxy/listener/internal-conn.js';
import { originalDstTarget } from '../../../src/proxy/upstream/original-dst-lb.js';
import { internalPair } from '../../../src/proxy/internal/internal-socket.js';
import { compileUpstreamTls } from '../../../src/proxy/tls/tls-plan.js';
import { sanAllowed } from '../../../src/proxy/tls/secret-store.js';
import type { PeerCertificate } from 'node:tls';

const value = (key: string, format: string, o: { factoryKey?: string; skipIfEmpty?: boolean } = {}) => create(FilterStateValueSchema, {
  key: { case: 'objectKey', value: key }, factoryKey: o.factoryKey ?? '', skipIfEmpty: o.skipIfEmpty ?? false,
  value: { case: 'formatString', value: { format: { case: 'textFormatSource', value: { specifier: { case: 'inlineString', value: format } } } } },
  sharedWithUpstream: Shared.ONCE,
});

const source = (authority: string | undefined): StateSource => ({
  header: (n) => (n === ':authority' ? authority : undefined), downstreamLocal: '10.0.0.9:15008', downstreamRemote: '10.0.0.1:40000',
  peerUriSan: 'spiffe://cluster.local/ns/a/sa/b', localUriSan: '', filterState: undefined,
});

describe('set_filter_state', () => {
  it("stores istiod's connect_authority values and shares them once", () => {
    const errors: string[] = [];
    const setters = compileSetFilterState([value(LOCAL_IP_KEY, '%REQ(:AUTHORITY)%'), value('io.istio.peer_principal', '%DOWNSTREAM_PEER_URI_SAN%', { factoryKey: 'envoy.string' })], 'v', errors);
    assert.deepEqual(errors, []);
    const state = applySetFilterState(setters, source('10.0.0.5:8080'), undefined)!;
    assert.equal(state.get(LOCAL_IP_KEY)?.value, '10.0.0.5:8080');
    assert.equal(state.get('io.istio.peer_principal')?.value, 'spiffe://cluster.local/ns/a/sa/b');
    const next = sharedWithUpstream(state)!;
    assert.equal(next.get(LOCAL_IP_KEY)?.sharing, 'none', 'ONCE reaches the next hop only');
    assert.equal(sharedWithUpstream(next), undefined);
  });

  it('does not store an address object that is no IP:port, and skips empty values when asked', () => {
    const setters = compileSetFilterState([value(LOCAL_IP_KEY, '%REQ(:AUTHORITY)%'), value('x', '%REQ(x-none)%', { factoryKey: 'envoy.string', skipIfEmpty: true })], 'v', []);
    assert.equal(applySetFilterState(setters, source('reviews.default.svc:9080'), undefined), undefined);
  });

  it('refuses unknown format commands and keys without a factory', () => {
    const errors: string[] = [];
    compileSetFilterState([value('io.istio.x', '%REQ(:AUTHORITY)%'), value('y', '%UPSTREAM_HOST%', { factoryKey: 'envoy.string' })], 'v', errors);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /has no object factory/);
    assert.match(errors[1]!, /%UPSTREAM_HOST% is not supported/);
  });
});

describe('internal listeners and endpoints', () => {
  const listener = (extra: object) => compileListener(create(ListenerSchema, { name: 'main_internal', listenerSpecifier: { case: 'internalListener', value: {} }, filterChains: [{ filters: [] }], ...extra }));

  it('compiles an internal listener without an address, not bound; filter_chain_matcher is refused', () => {
    const r = listener({});
    assert.ok(r.ok);
    assert.equal(r.value.internal, true);
    assert.equal(r.value.bindToPort, false);
    const m = listener({ filterChainMatcher: {} });
    assert.ok(!m.ok && m.errors.some((e) => e.startsWith('filterChainMatcher: ')));
  });

  it('restores the destination from passthrough metadata first, then from shared filter state', () => {
    const r = listener({ listenerFilters: [{ name: 'envoy.filters.listener.original_dst', configType: { case: 'typedConfig', value: { typeUrl: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst', value: new Uint8Array() } } }] });
    assert.ok(r.ok);
    const fs = new Map([[LOCAL_IP_KEY, { value: '10.0.0.7:80', sharing: 'none' as const }]]);
    const byMetadata = internalConnContext(r.value, { metadata: { 'envoy.filters.listener.original_dst': { local: '10.0.0.5:8080' } }, filterState: fs, endpointId: '' }, 'envoy://main_internal/');
    assert.deepEqual(byMetadata.originalDst, { address: '10.0.0.5', port: 8080 });
    const byState = internalConnContext(r.value, { metadata: {}, filterState: fs, endpointId: '' }, 'envoy://main_internal/');
    assert.deepEqual(byState.originalDst, { address: '10.0.0.7', port: 80 });
    const noFilter = listener({});
    assert.ok(noFilter.ok);
    assert.equal(internalConnContext(noFilter.value, { metadata: {}, filterState: fs, endpointId: '' }, 'envoy://x/').originalDst.port, 0, 'without original_dst nothing is restored');
  });

  it('compiles envoy_internal_address endpoints and refuses TLS inside internal_upstream', () => {
    const c = compileCluster(create(ClusterSchema, {
      name: 'app', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
      loadAssignment: { clusterName: 'app', endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'envoyInternalAddress', value: { addressNameSpecifier: { case: 'serverListenerName', value: 'connect_originate' }, endpointId: '10.0.0.5:8080' } } } } } }] }] },
      transportSocket: { name: 'internal_upstream', configType: { case: 'typedConfig', value: anyPack(InternalUpstreamTransportSchema, create(InternalUpstreamTransportSchema, { passthroughMetadata: [{ kind: { kind: { case: 'host', value: {} } }, name: 'envoy.filters.listener.original_dst' }] })) } },
    }));
    assert.ok(c.ok);
    assert.equal(c.value.staticEndpoints[0]?.address, 'envoy://connect_originate/10.0.0.5:8080');
    assert.deepEqual(c.value.internal?.passthrough, [{ from: 'host', name: 'envoy.filters.listener.original_dst' }]);
    const errors: string[] = [];
    const tls = { name: 'tls', configType: { case: 'typedConfig' as const, value: anyPack(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema)) } };
    compileUpstreamTransport({ name: 'internal_upstream', configType: { case: 'typedConfig', value: anyPack(InternalUpstreamTransportSchema, create(InternalUpstreamTransportSchema, { transportSocket: tls })) } } as never, 'ts', errors);
    assert.match(errors.join(), /TLS inside an internal connection is not supported/);
  });
});

describe('ORIGINAL_DST destination', () => {
  const lb = (o: object) => compileCluster(create(ClusterSchema, { name: 'od', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST }, lbConfig: { case: 'originalDstLbConfig', value: o } }));
  const local = { address: '10.0.0.5', port: 8080 };

  it('overrides the port (HBONE 15008) and prefers the waypoint from metadata', () => {
    const c = lb({ upstreamPortOverride: 15008, metadataKey: { key: 'envoy.filters.listener.original_dst', path: [{ segment: { case: 'key', value: 'waypoint' } }] } });
    assert.ok(c.ok);
    assert.deepEqual(originalDstTarget(c.value.originalDstLb, { local }), { host: '10.0.0.5', port: 15008 });
    const md = { 'envoy.filters.listener.original_dst': { local: '10.0.0.5:8080', waypoint: '10.0.0.9:15008' } };
    assert.deepEqual(originalDstTarget(c.value.originalDstLb, { local, metadata: [undefined, md] }), { host: '10.0.0.9', port: 15008 });
  });

  it('reads use_http_header; a header that is no IP:port gives no host', () => {
    const c = lb({ useHttpHeader: true });
    assert.ok(c.ok);
    assert.deepEqual(originalDstTarget(c.value.originalDstLb, { local, header: () => '10.1.1.1:90' }), { host: '10.1.1.1', port: 90 });
    assert.equal(originalDstTarget(c.value.originalDstLb, { local, header: () => 'reviews:90' }), undefined);
    assert.deepEqual(originalDstTarget(c.value.originalDstLb, { local, header: () => undefined }), { host: '10.0.0.5', port: 8080 });
  });
});

describe('tunneling_config and typed SANs', () => {
  it('refuses POST tunnels', () => {
    const errors: string[] = [];
    compileTcpProxy(create(TcpProxySchema, { statPrefix: 't', clusterSpecifier: { case: 'cluster', value: 'c' }, tunnelingConfig: { hostname: '%DOWNSTREAM_LOCAL_ADDRESS%', usePost: true } }), 'tp', errors);
    assert.match(errors.join(), /POST tunnels are not supported/);
  });

  it('a typed URI matcher accepts a URI SAN only, not a DNS SAN with the same text', () => {
    const ctx = create(UpstreamTlsContextSchema, { commonTlsContext: { validationContextType: { case: 'validationContext', value: {
      trustedCa: { specifier: { case: 'inlineString', value: 'x' } },
      matchTypedSubjectAltNames: [{ sanType: SubjectAltNameMatcher_SanType.URI, matcher: { matchPattern: { case: 'prefix', value: 'spiffe://cluster.local/ns/ambient/' } } }],
    } } } });
    const errors: string[] = [];
    const plan = compileUpstreamTls({ name: 'tls', configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, ctx) } } as never, 'ts', errors)!;
    const cert = (san: string) => ({ subjectaltname: san }) as PeerCertificate;
    assert.equal(sanAllowed(plan, cert('URI:spiffe://cluster.local/ns/ambient/sa/w')), true);
    assert.equal(sanAllowed(plan, cert('DNS:spiffe://cluster.local/ns/ambient/sa/w')), false);
    assert.equal(sanAllowed(plan, cert('URI:spiffe://cluster.local/ns/other/sa/w')), false);
  });
});

describe('the in-process socket pair', () => {
  it('passes a FIN as end while the other direction flows, and a destroy as a reset', async () => {
    const { client, server } = internalPair('l', 'id');
    let got = '';
    server.on('data', (d: Buffer) => (got += d.toString()));
    const ended = new Promise((r) => server.once('end', r));
    client.end('hello');
    await ended;
    assert.equal(got, 'hello');
    const back = new Promise<string>((r) => client.once('data', (d: Buffer) => r(d.toString())));
    server.write('reply after FIN');
    assert.equal(await back, 'reply after FIN');
    const pair = internalPair('l', 'id2');
    const closed = new Promise((r) => pair.server.once('close', r));
    pair.client.destroy();
    await closed;
    assert.equal(pair.server.destroyed, true);
  });

  it('holds a writer until the reader reads (back-pressure)', async () => {
    const { client, server } = internalPair('l', 'id');
    server.pause();
    const big = Buffer.alloc(64 * 1024);
    let writes = 0;
    while (client.write(big) && writes < 100) writes++;
    assert.ok(writes < 100, 'write() reported a full buffer');
    const drained = new Promise((r) => client.once('drain', r));
    server.resume();
    await drained;
    client.destroy();
  });
});

describe('the in-process socket pair, closing', () => {
  it('a writer that closes after its FIN (destroySoon) does not reset a reader that has not read the FIN yet', async () => {
    const { client, server } = internalPair('l', 'id3');
    client.write(Buffer.alloc(20_000));
    client.destroySoon();
    await new Promise((r) => setImmediate(r));
    assert.equal((server.read() as Buffer | null)?.length, 20_000);
    await new Promise((r) => client.once('close', r));
    // The FIN may still be unread on the server: a TCP reader gets it, and so must this one, not a reset.
    server.resume();
    await new Promise((r) => setImmediate(r));
    assert.equal(server.readableEnded, true, 'the server read the FIN (it was not reset)');
  });
});
