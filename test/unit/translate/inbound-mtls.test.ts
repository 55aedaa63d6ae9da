/**
 * virtualInbound through the real generator under each PeerAuthentication
 * mode, as istiod builds it for a sidecar: the chains and their matches, the
 * DownstreamTlsContext, the inspectors, XFCC, AuthorizationPolicy filters,
 * and which workloads share one listener.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { ListenerFilterSchema, type FilterChain } from '../../../src/gen/envoy/config/listener/v3/listener_components_pb.js';
import { DownstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import { modelOf, sidecarNode, testRoutes } from './helpers.js';

const pod = (name: string, ip: string, labels: string) => `
---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: {${labels}, security.istio.io/tlsMode: istio}}
spec: {serviceAccountName: web}
status: {podIP: ${ip}, phase: Running}`;

/** web: HTTP 80→8080 and TCP 9000; four pods, web-3 labelled like web-1. */
const mesh = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.5.1
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: tcp-raw, port: 9000}]
${pod('web-1', '10.5.0.1', 'app: web, version: v1')}${pod('web-2', '10.5.0.2', 'app: web, version: v2')}${pod('web-3', '10.5.0.3', 'app: web, version: v1')}`;

const pa = (name: string, spec: string, ns = 'shop') => `
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ${name}, namespace: ${ns}}
spec: ${spec}`;

function inboundOf(yaml: string, podName = 'web-1', ip = '10.5.0.1'): Listener {
  const gen = createGenerator(modelOf(yaml), testRoutes);
  return anyUnpack(gen.generate(sidecarNode(ip, podName, 'shop'), TypeUrl.Listener, undefined).get('virtualInbound')!.any, ListenerSchema)!;
}

/** [name, destination port, transport protocol, ALPN, terminates mTLS] per chain. */
function shape(l: Listener): [string, number | undefined, string, string[], boolean][] {
  return l.filterChains.map((c) => [c.name, c.filterChainMatch?.destinationPort, c.filterChainMatch?.transportProtocol ?? '', c.filterChainMatch?.applicationProtocols ?? [], c.transportSocket !== undefined]);
}

function tlsOf(c: FilterChain) {
  return toJson(DownstreamTlsContextSchema, anyUnpack(c.transportSocket!.configType.value as never, DownstreamTlsContextSchema)!, { registry: xdsRegistry });
}

const allIstio = ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'];
const mtlsHttp = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];

describe('virtualInbound and PeerAuthentication', () => {
  test('STRICT: only chains that terminate mTLS — no plaintext chain for any port or the passthrough', () => {
    const l = inboundOf(mesh + pa('ns', '{mtls: {mode: STRICT}}'));
    assert.deepEqual(shape(l), [
      ['virtualInbound-blackhole', 15006, '', [], false],
      ['virtualInbound-catchall-http', undefined, 'tls', mtlsHttp, true],
      ['virtualInbound', undefined, 'tls', [], true],
      ['0.0.0.0_8080', 8080, 'tls', [], true],
      ['0.0.0.0_9000', 9000, 'tls', [], true],
    ]);
    const agent = { apiConfigSource: { apiType: 'GRPC', transportApiVersion: 'V3', grpcServices: [{ envoyGrpc: { clusterName: 'sds-grpc' } }], setNodeOnFirstMessageOnly: true }, initialFetchTimeout: '0s', resourceApiVersion: 'V3' };
    const context = (alpn: string[]) => ({
      commonTlsContext: {
        tlsParams: {
          tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3',
          cipherSuites: ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-GCM-SHA256'],
        },
        tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: agent }],
        combinedValidationContext: {
          defaultValidationContext: { matchSubjectAltNames: [{ prefix: 'spiffe://cluster.local/' }] },
          validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: agent },
        },
        alpnProtocols: alpn,
      },
      requireClientCertificate: true,
    });
    assert.deepEqual(tlsOf(l.filterChains[3]!), context(['h2', 'http/1.1']), 'HTTP chain');
    assert.deepEqual(tlsOf(l.filterChains[4]!), context(['istio-peer-exchange', 'h2', 'http/1.1']), 'TCP chain');
    assert.equal(l.filterChains[3]!.transportSocket!.name, 'envoy.transport_sockets.tls');
  });

  test('PERMISSIVE (the default): mTLS chains matched on Istio ALPN beside plaintext ones; plain TLS to a TCP port passes through', () => {
    const l = inboundOf(mesh);
    assert.deepEqual(shape(l), [
      ['virtualInbound-blackhole', 15006, '', [], false],
      ['virtualInbound-catchall-http', undefined, 'tls', mtlsHttp, true],
      ['virtualInbound-catchall-http', undefined, 'raw_buffer', ['http/1.1', 'h2c'], false],
      ['virtualInbound', undefined, 'tls', ['istio-peer-exchange', 'istio'], true],
      ['virtualInbound', undefined, 'raw_buffer', [], false],
      ['virtualInbound', undefined, 'tls', [], false],
      ['0.0.0.0_8080', 8080, 'tls', allIstio, true],
      ['0.0.0.0_8080', 8080, 'raw_buffer', [], false],
      ['0.0.0.0_9000', 9000, 'tls', allIstio, true],
      ['0.0.0.0_9000', 9000, 'tls', [], false],
      ['0.0.0.0_9000', 9000, 'raw_buffer', [], false],
    ]);
    // The inspectors only where a match needs them: not on 15006; HTTP sniffing only for the passthrough.
    assert.deepEqual(l.listenerFilters.map((f) => toJson(ListenerFilterSchema, f, { registry: xdsRegistry })), [
      { name: 'envoy.filters.listener.original_dst', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' } },
      {
        name: 'envoy.filters.listener.tls_inspector',
        typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', initialReadBufferSize: 512 },
        filterDisabled: { destinationPortRange: { start: 15006, end: 15007 } },
      },
      {
        name: 'envoy.filters.listener.http_inspector',
        typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector' },
        filterDisabled: { orMatch: { rules: [8080, 9000, 15006].map((p) => ({ destinationPortRange: { start: p, end: p + 1 } })) } },
      },
    ]);
    assert.equal(l.continueOnListenerFiltersTimeout, true);
    assert.equal(l.listenerFiltersTimeout?.seconds, 0n);
  });

  test('DISABLE (a workload selector): plaintext only, no TLS inspector', () => {
    const l = inboundOf(mesh + pa('ns', '{mtls: {mode: STRICT}}') + pa('v2-off', '{selector: {matchLabels: {version: v2}}, mtls: {mode: DISABLE}}'), 'web-2', '10.5.0.2');
    assert.deepEqual(shape(l), [
      ['virtualInbound-blackhole', 15006, '', [], false],
      ['virtualInbound-catchall-http', undefined, 'raw_buffer', ['http/1.1', 'h2c'], false],
      ['virtualInbound', undefined, 'raw_buffer', [], false],
      ['0.0.0.0_8080', 8080, 'raw_buffer', [], false],
      ['0.0.0.0_9000', 9000, 'raw_buffer', [], false],
    ]);
    assert.deepEqual(l.listenerFilters.map((f) => f.name), ['envoy.filters.listener.original_dst', 'envoy.filters.listener.http_inspector']);
  });

  test('portLevelMtls: per port; a port no service declares gets its own passthrough chains', () => {
    const l = inboundOf(mesh + pa('ns', '{mtls: {mode: STRICT}}') + pa('web', '{selector: {matchLabels: {app: web}}, portLevelMtls: {"8080": {mode: PERMISSIVE}, "7070": {mode: DISABLE}}}'));
    assert.deepEqual(shape(l).filter(([, port]) => port !== undefined && port !== 15006), [
      ['virtualInbound-catchall-http', 7070, 'raw_buffer', ['http/1.1', 'h2c'], false],
      ['virtualInbound', 7070, 'raw_buffer', [], false],
      ['0.0.0.0_8080', 8080, 'tls', allIstio, true],
      ['0.0.0.0_8080', 8080, 'raw_buffer', [], false],
      ['0.0.0.0_9000', 9000, 'tls', [], true],
    ]);
  });

  test('inbound HCMs tell the app who called: x-forwarded-client-cert APPEND_FORWARD with Subject, URI and DNS', () => {
    const l = inboundOf(mesh);
    for (const c of l.filterChains.filter((x) => x.filters[0]?.name === 'envoy.filters.network.http_connection_manager')) {
      const hcm = anyUnpack(c.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
      const json = toJson(HttpConnectionManagerSchema, hcm, { registry: xdsRegistry }) as Record<string, unknown>;
      assert.equal(json['forwardClientCertDetails'], 'APPEND_FORWARD', c.name);
      assert.deepEqual(json['setCurrentClientCertDetails'], { subject: true, uri: true, dns: true }, c.name);
    }
  });

  test('inbound HCMs allow websocket upgrades, as istiod sets on every sidecar HCM (and nothing else: no CONNECT)', () => {
    const l = inboundOf(mesh);
    const hcms = l.filterChains.filter((x) => x.filters[0]?.name === 'envoy.filters.network.http_connection_manager');
    assert.ok(hcms.length > 0);
    for (const c of hcms) {
      const hcm = anyUnpack(c.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
      const json = toJson(HttpConnectionManagerSchema, hcm, { registry: xdsRegistry }) as Record<string, unknown>;
      assert.deepEqual(json['upgradeConfigs'], [{ upgradeType: 'websocket' }], c.name);
    }
  });
});

const authz = (name: string, spec: string) => `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: shop}
spec: ${spec}`;

describe('virtualInbound and AuthorizationPolicy', () => {
  const yaml = mesh + authz('deny-v1-admin', '{selector: {matchLabels: {version: v1}}, action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}')
    + authz('allow-shop', '{rules: [{from: [{source: {namespaces: [shop]}}]}]}');

  test('HTTP chains: RBAC filters (DENY, then ALLOW) before the router; TCP chains: network RBAC before tcp_proxy; passthrough too', () => {
    const l = inboundOf(yaml);
    for (const c of l.filterChains.slice(1)) {
      const f = c.filters[0]!;
      if (f.name === 'envoy.filters.network.http_connection_manager') {
        const hcm = anyUnpack(f.configType.value as never, HttpConnectionManagerSchema)!;
        assert.deepEqual(hcm.httpFilters.map((h) => h.name), ['envoy.filters.http.rbac', 'envoy.filters.http.rbac', 'envoy.filters.http.router'], c.name);
      } else {
        assert.deepEqual(c.filters.map((x) => x.name), ['envoy.filters.network.rbac', 'envoy.filters.network.rbac', 'envoy.filters.network.tcp_proxy'], c.name);
      }
    }
    // The blackhole chain is not the workload's traffic.
    assert.deepEqual(l.filterChains[0]!.filters.map((x) => x.name), ['envoy.filters.network.tcp_proxy']);
  });

  test('memoisation: workloads with the same ports and policies share one listener; a policy that selects one of them separates them', () => {
    const gen = createGenerator(modelOf(yaml), testRoutes);
    const vin = (pod: string, ip: string) => gen.generate(sidecarNode(ip, pod, 'shop'), TypeUrl.Listener, undefined).get('virtualInbound')!;
    assert.equal(vin('web-1', '10.5.0.1'), vin('web-3', '10.5.0.3'), 'web-1 and web-3: same labels, same policies');
    assert.notEqual(vin('web-1', '10.5.0.1').version, vin('web-2', '10.5.0.2').version, 'the DENY selects v1 only');

    const byMtls = createGenerator(modelOf(mesh + pa('v2', '{selector: {matchLabels: {version: v2}}, mtls: {mode: STRICT}}')), testRoutes);
    const vin2 = (pod: string, ip: string) => byMtls.generate(sidecarNode(ip, pod, 'shop'), TypeUrl.Listener, undefined).get('virtualInbound')!;
    assert.notEqual(vin2('web-1', '10.5.0.1').version, vin2('web-2', '10.5.0.2').version, 'different mTLS modes');
    assert.equal(vin2('web-1', '10.5.0.1'), vin2('web-3', '10.5.0.3'));
  });

  test('no AuthorizationPolicy: no RBAC filter anywhere', () => {
    const l = inboundOf(mesh);
    const names = l.filterChains.flatMap((c) => c.filters.flatMap((f) => f.name === 'envoy.filters.network.http_connection_manager'
      ? anyUnpack(f.configType.value as never, HttpConnectionManagerSchema)!.httpFilters.map((h) => h.name)
      : [f.name]));
    assert.ok(!names.some((n) => n.includes('rbac')), names.join(' '));
  });
});
