/**
 * Auto mTLS as istiod decides it (buildUpstreamTLSSettings,
 * BestEffortInferServiceMTLSMode): per endpoint through
 * transport_socket_matches and the endpoints' tlsMode metadata, unless a
 * DestinationRule sets tls, the destination is external or its namespace
 * disables mTLS; headless destinations all-or-nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, type Cluster } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { UpstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import { grpcNode, sidecarNode, stateOf, testRoutes } from './helpers.js';

const pod = (name: string, ip: string, labels: string, sa: string, sidecar: boolean) => `
---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: {${labels}${sidecar ? ', security.istio.io/tlsMode: istio' : ''}}}
spec: {serviceAccountName: ${sa}}
status: {podIP: ${ip}, phase: Running}`;

const svc = (name: string, ports: string, extra = '') => `
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec: {selector: {app: ${name}}, ports: ${ports}${extra}}`;

const mesh = [
  svc('web', '[{name: http, port: 80, targetPort: 8080}, {name: grpc, port: 9090}]', ', clusterIP: 10.96.5.1'),
  pod('web-1', '10.5.0.1', 'app: web, version: v1', 'web', true),
  pod('web-2', '10.5.0.2', 'app: web, version: v2', 'web-canary', true),
  pod('web-3', '10.5.0.3', 'app: web, version: v2', 'legacy', false),
  svc('hl', '[{name: tcp, port: 5000}]', ', clusterIP: None'),
  pod('hl-0', '10.5.1.1', 'app: hl', 'hl', true),
  svc('hlmix', '[{name: tcp, port: 5000}]', ', clusterIP: None'),
  pod('hlmix-0', '10.5.2.1', 'app: hlmix', 'hl', true),
  pod('hlmix-1', '10.5.2.2', 'app: hlmix', 'hl', false),
  `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vm, namespace: shop}
spec:
  hosts: [vm.shop.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  addresses: [10.97.0.1]
  ports: [{number: 80, name: http, protocol: HTTP}]
  subjectAltNames: ["spiffe://cluster.local/ns/shop/sa/vm-extra"]
  endpoints:
  - {address: 10.6.0.1, serviceAccount: vm, labels: {security.istio.io/tlsMode: istio}}
  - {address: 10.6.0.2}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec: {hosts: [api.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
---
apiVersion: v1
kind: Service
metadata: {name: alias, namespace: shop}
spec: {type: ExternalName, externalName: api.example.com, ports: [{name: http, port: 80}]}
`,
].join('');

const dr = (host: string, spec: string) => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${host.split('.')[0]}, namespace: shop}
spec: {host: ${host}, ${spec}}`;

const pa = (ns: string, mode: string) => `
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: ${ns}}
spec: {mtls: {mode: ${mode}}}`;

const web = 'web.shop.svc.cluster.local';

function clusters(yaml: string, opts: { enableAutoMtls?: boolean } = {}, node = sidecarNode('10.9.0.1', 'client', 'shop')): Map<string, Cluster> {
  const gen = createGenerator(buildModel(stateOf(yaml), opts), testRoutes);
  return new Map([...gen.generate(node, TypeUrl.Cluster, undefined)].map(([k, r]) => [k, anyUnpack(r.any, ClusterSchema)!]));
}

const matchesJson = (c: Cluster) => toJson(ClusterSchema, c, { registry: xdsRegistry }) as { transportSocketMatches?: unknown; transportSocket?: unknown };

function mtlsOf(c: Cluster) {
  const ts = c.transportSocketMatches[0]?.transportSocket ?? c.transportSocket!;
  return anyUnpack(ts.configType.value as never, UpstreamTlsContextSchema)!;
}

function sans(c: Cluster): string[] {
  const v = mtlsOf(c).commonTlsContext!.validationContextType;
  return v.case === 'combinedValidationContext' ? v.value.defaultValidationContext!.matchSubjectAltNames.map((m) => String(m.matchPattern.value)) : [];
}

describe('auto mTLS', () => {
  test('no DestinationRule tls: mTLS to endpoints labelled tlsMode "istio", plaintext to the rest', () => {
    const c = clusters(mesh).get(`outbound|80||${web}`)!;
    assert.equal(c.transportSocket, undefined);
    const json = matchesJson(c).transportSocketMatches as { name: string; match: unknown; transportSocket: { name: string; typedConfig: Record<string, unknown> } }[];
    assert.deepEqual(json.map((m) => [m.name, m.match, m.transportSocket.name]), [
      ['tlsMode-istio', { tlsMode: 'istio' }, 'envoy.transport_sockets.tls'],
      ['tlsMode-disabled', {}, 'envoy.transport_sockets.raw_buffer'],
    ]);
    assert.deepEqual(json[1]!.transportSocket.typedConfig, { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' });
    const ctx = mtlsOf(c);
    assert.equal(ctx.sni, `outbound_.80_._.${web}`);
    assert.deepEqual(ctx.commonTlsContext!.alpnProtocols, ['istio-peer-exchange', 'istio']);
    assert.deepEqual(ctx.commonTlsContext!.tlsCertificateSdsSecretConfigs.map((s) => s.name), ['default']);
    // Every service account behind the service, sorted: the server may be any of them.
    assert.deepEqual(sans(c), ['spiffe://cluster.local/ns/shop/sa/legacy', 'spiffe://cluster.local/ns/shop/sa/web', 'spiffe://cluster.local/ns/shop/sa/web-canary']);
    assert.deepEqual(mtlsOf(clusters(mesh).get(`outbound|9090||${web}`)!).commonTlsContext!.alpnProtocols, ['istio-peer-exchange', 'istio', 'h2']);
  });

  test('subset clusters get their own SNI', () => {
    const c = clusters(mesh + dr('web', 'subsets: [{name: v1, labels: {version: v1}}]')).get(`outbound|80|v1|${web}`)!;
    assert.equal(mtlsOf(c).sni, `outbound_.80_.v1_.${web}`);
  });

  test('EDS: endpoints with a sidecar carry envoy.transport_socket_match {tlsMode: istio}, the others nothing', () => {
    const gen = createGenerator(buildModel(stateOf(mesh)), testRoutes);
    const node = sidecarNode('10.9.0.1', 'client', 'shop');
    const eds = gen.generate(node, TypeUrl.ClusterLoadAssignment, new Set([`outbound|80||${web}`, 'outbound|80||vm.shop.internal']));
    const meta = (name: string) => anyUnpack(eds.get(name)!.any, ClusterLoadAssignmentSchema)!.endpoints.flatMap((l) => l.lbEndpoints).map((e) => {
      const a = e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address : undefined;
      return [a?.case === 'socketAddress' ? a.value.address : '?', e.metadata?.filterMetadata['envoy.transport_socket_match']];
    });
    assert.deepEqual(meta(`outbound|80||${web}`), [['10.5.0.1', { tlsMode: 'istio' }], ['10.5.0.2', { tlsMode: 'istio' }], ['10.5.0.3', undefined]]);
    assert.deepEqual(meta('outbound|80||vm.shop.internal'), [['10.6.0.1', { tlsMode: 'istio' }], ['10.6.0.2', undefined]]);
  });

  test('a mesh-internal ServiceEntry: its subjectAltNames and its endpoints\' accounts are the SANs', () => {
    assert.deepEqual(sans(clusters(mesh).get('outbound|80||vm.shop.internal')!), ['spiffe://cluster.local/ns/shop/sa/vm', 'spiffe://cluster.local/ns/shop/sa/vm-extra']);
  });

  test('not for external destinations (MESH_EXTERNAL ServiceEntry, ExternalName), nor with auto mTLS off', () => {
    const cs = clusters(mesh);
    for (const name of ['outbound|443||api.example.com', 'outbound|80||alias.shop.svc.cluster.local']) {
      assert.deepEqual([cs.get(name)!.transportSocket, cs.get(name)!.transportSocketMatches], [undefined, []], name);
    }
    const off = clusters(mesh, { enableAutoMtls: false }).get(`outbound|80||${web}`)!;
    assert.deepEqual([off.transportSocket, off.transportSocketMatches], [undefined, []]);
  });

  test('the destination namespace\'s PeerAuthentication: DISABLE turns it off, STRICT keeps it per endpoint (workload policies are not consulted)', () => {
    const off = clusters(mesh + pa('shop', 'DISABLE')).get(`outbound|80||${web}`)!;
    assert.deepEqual(off.transportSocketMatches, []);
    const strict = clusters(mesh + pa('istio-system', 'STRICT')).get(`outbound|80||${web}`)!;
    assert.equal(strict.transportSocketMatches.length, 2);
    const meshOffNsOn = clusters(mesh + pa('istio-system', 'DISABLE') + pa('shop', 'PERMISSIVE')).get(`outbound|80||${web}`)!;
    assert.equal(meshOffNsOn.transportSocketMatches.length, 2);
  });

  test('a DestinationRule that sets tls decides alone: ISTIO_MUTUAL explicit, DISABLE and a mode-less tls block plaintext', () => {
    const istio = clusters(mesh + dr(web, 'trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}')).get(`outbound|80||${web}`)!;
    assert.deepEqual(istio.transportSocketMatches, []);
    assert.equal(mtlsOf(istio).sni, `outbound_.80_._.${web}`);
    assert.equal(sans(istio).length, 3);
    for (const tls of ['{mode: DISABLE}', '{sni: x}']) {
      const c = clusters(mesh + dr(web, `trafficPolicy: {tls: ${tls}}`)).get(`outbound|80||${web}`)!;
      assert.deepEqual([c.transportSocket, c.transportSocketMatches], [undefined, []], tls);
    }
  });

  test('headless (ORIGINAL_DST): ISTIO_MUTUAL as the only transport socket when every endpoint has a sidecar, else plaintext', () => {
    const cs = clusters(mesh);
    const all = cs.get('outbound|5000||hl.shop.svc.cluster.local')!;
    assert.deepEqual(all.transportSocketMatches, []);
    assert.equal(mtlsOf(all).sni, 'outbound_.5000_._.hl.shop.svc.cluster.local');
    const mixed = cs.get('outbound|5000||hlmix.shop.svc.cluster.local')!;
    assert.deepEqual([mixed.transportSocket, mixed.transportSocketMatches], [undefined, []]);
    // A PASSTHROUGH load balancer makes a ClusterIP service passthrough too: web has a pod without a sidecar.
    const pass = clusters(mesh + dr(web, 'trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}')).get(`outbound|80||${web}`)!;
    assert.deepEqual([pass.transportSocket, pass.transportSocketMatches], [undefined, []]);
  });

  test('proxyless gRPC: no auto mTLS; ISTIO_MUTUAL in gRPC\'s certificate-provider shape', () => {
    const grpc = clusters(mesh, {}, grpcNode('shop')).get(`outbound|80||${web}`)!;
    assert.deepEqual([grpc.transportSocket, grpc.transportSocketMatches], [undefined, []]);
    const c = clusters(mesh + dr(web, 'trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}'), {}, grpcNode('shop')).get(`outbound|80||${web}`)!;
    const json = toJson(UpstreamTlsContextSchema, mtlsOf(c), { registry: xdsRegistry });
    assert.deepEqual(json, {
      commonTlsContext: {
        combinedValidationContext: {
          defaultValidationContext: {
            matchSubjectAltNames: ['legacy', 'web', 'web-canary'].map((sa) => ({ exact: `spiffe://cluster.local/ns/shop/sa/${sa}` })),
            caCertificateProviderInstance: { instanceName: 'default', certificateName: 'ROOTCA' },
          },
          validationContextCertificateProviderInstance: { instanceName: 'default', certificateName: 'ROOTCA' },
        },
        tlsCertificateCertificateProviderInstance: { instanceName: 'default', certificateName: 'default' },
        tlsCertificateProviderInstance: { instanceName: 'default', certificateName: 'default' },
      },
    });
  });
});
