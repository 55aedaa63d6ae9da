/**
 * Gateways' credentialName (issue 13, item 7) as istiod serves it: the
 * server's TLS context names SDS secrets `kubernetes://NAME` (and
 * `kubernetes://NAME-cacert` for MUTUAL) over ADS, and the control plane
 * serves them from the Secrets of the router's own namespace — to routers
 * only. And the policies selecting the gateway pod (AuthorizationPolicy,
 * RequestAuthentication) on its chains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import type { Listener } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import type { Secret } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { DownstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { credentialOf } from '../../../src/controlplane/registry/secrets.js';
import { modelOf, sidecarNode } from './helpers.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const secrets = `
apiVersion: v1
kind: Secret
metadata: {name: shop-cert, namespace: istio-system}
type: kubernetes.io/tls
data: {tls.crt: ${b64('CHAIN')}, tls.key: ${b64('KEY')}, ca.crt: ${b64('OWN-CA')}}
---
apiVersion: v1
kind: Secret
metadata: {name: generic, namespace: istio-system}
stringData: {cert: G-CHAIN, key: G-KEY, cacert: G-CA}
---
apiVersion: v1
kind: Secret
metadata: {name: split, namespace: istio-system}
type: kubernetes.io/tls
data: {tls.crt: ${b64('S-CHAIN')}, tls.key: ${b64('S-KEY')}}
---
apiVersion: v1
kind: Secret
metadata: {name: split-cacert, namespace: istio-system}
data: {ca.crt: ${b64('SPLIT-CA')}}
---
apiVersion: v1
kind: Secret
metadata: {name: elsewhere, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: ${b64('E-CHAIN')}, tls.key: ${b64('E-KEY')}}
`;

const gateway = (tls: string, extra = '') => `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: secure, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: ${tls}
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: istio-system}
spec:
  hosts: [shop.example.com]
  gateways: [secure]
  http: [{route: [{destination: {host: shop.shop.svc.cluster.local, port: {number: 80}}}]}]
  tcp: [{route: [{destination: {host: shop.shop.svc.cluster.local, port: {number: 80}}}]}]
${extra}`;

const router = (ns = 'istio-system', labels: Record<string, string> = { istio: 'ingressgateway' }): ProxyNode =>
  ({ ...parseNodeId(`router~10.0.0.50~ingress-abc.${ns}~${ns}.svc.cluster.local`), labels });

function gen(text: string) {
  return createGenerator(modelOf(secrets + text), routeBuilders);
}

function sds(text: string, node: ProxyNode, names: string[]): Map<string, Secret> {
  return new Map([...gen(text).generate(node, TypeUrl.Secret, new Set(names))].map(([k, v]) => [k, v.message as Secret]));
}

function listener(text: string, name: string, node = router()): Listener {
  const l = gen(text).generate(node, TypeUrl.Listener, undefined).get(name);
  assert.ok(l, `listener ${name}`);
  return l.message as Listener;
}

const tlsOf = (l: Listener) => anyUnpack(l.filterChains[0]!.transportSocket!.configType.value as never, DownstreamTlsContextSchema)!;
const text = (s: Secret | undefined, part: 'chain' | 'key' | 'ca') => {
  const t = s?.type;
  const ds = t?.case === 'tlsCertificate' ? (part === 'chain' ? t.value.certificateChain : t.value.privateKey) : t?.case === 'validationContext' ? t.value.trustedCa : undefined;
  return ds?.specifier.case === 'inlineBytes' ? Buffer.from(ds.specifier.value).toString() : undefined;
};

test('SIMPLE with credentialName: the certificate is SDS "kubernetes://NAME" over ADS; no files, no client CA', () => {
  const ctx = tlsOf(listener(gateway('{mode: SIMPLE, credentialName: shop-cert}'), '0.0.0.0_443'));
  const common = ctx.commonTlsContext!;
  assert.deepEqual(common.tlsCertificateSdsSecretConfigs.map((c) => [c.name, c.sdsConfig?.configSourceSpecifier.case]), [['kubernetes://shop-cert', 'ads']]);
  assert.equal(common.tlsCertificates.length, 0);
  assert.equal(common.validationContextType.case, undefined);
  assert.equal(ctx.requireClientCertificate, false);
});

test('MUTUAL with credentialName: the client CA is SDS "kubernetes://NAME-cacert" in a combined context with the SAN matchers', () => {
  const ctx = tlsOf(listener(gateway('{mode: MUTUAL, credentialName: shop-cert, subjectAltNames: [client.example.com]}'), '0.0.0.0_443'));
  const v = ctx.commonTlsContext!.validationContextType;
  assert.equal(v.case, 'combinedValidationContext');
  assert.equal(v.value.validationContextSdsSecretConfig?.name, 'kubernetes://shop-cert-cacert');
  assert.deepEqual(v.value.defaultValidationContext?.matchSubjectAltNames.map((m) => m.matchPattern.value), ['client.example.com']);
  assert.equal(ctx.requireClientCertificate, true);
});

test('SDS: a router gets kubernetes:// secrets of its own namespace (tls and generic keys, base64 and stringData); -cacert from NAME-cacert, else NAME\'s CA', () => {
  const got = sds(gateway('{mode: SIMPLE, credentialName: shop-cert}'), router(), [
    'kubernetes://shop-cert', 'kubernetes://shop-cert-cacert', 'kubernetes://generic', 'kubernetes://generic-cacert', 'kubernetes://split', 'kubernetes://split-cacert',
  ]);
  assert.deepEqual([text(got.get('kubernetes://shop-cert'), 'chain'), text(got.get('kubernetes://shop-cert'), 'key')], ['CHAIN', 'KEY']);
  assert.equal(text(got.get('kubernetes://shop-cert-cacert'), 'ca'), 'OWN-CA');
  assert.deepEqual([text(got.get('kubernetes://generic'), 'chain'), text(got.get('kubernetes://generic-cacert'), 'ca')], ['G-CHAIN', 'G-CA']);
  assert.equal(text(got.get('kubernetes://split'), 'chain'), 'S-CHAIN');
  assert.equal(text(got.get('kubernetes://split-cacert'), 'ca'), 'SPLIT-CA', 'the Secret NAME-cacert wins');
  assert.equal(got.get('kubernetes://shop-cert')!.name, 'kubernetes://shop-cert');
});

test('SDS authorization: a Secret of another namespace, a namespaced name, a missing Secret and any sidecar get nothing', () => {
  const g = gateway('{mode: SIMPLE, credentialName: shop-cert}');
  assert.equal(sds(g, router(), ['kubernetes://elsewhere', 'kubernetes://shop/elsewhere', 'kubernetes://nope', 'default', 'ROOTCA']).size, 0);
  assert.equal(sds(g, router('shop'), ['kubernetes://shop-cert']).size, 0, 'a router of another namespace');
  assert.equal(sds(g, router('shop'), ['kubernetes://elsewhere']).size, 1, 'the control: its own namespace');
  assert.equal(sds(g, sidecarNode('10.0.0.7', 'shop-1', 'istio-system'), ['kubernetes://shop-cert']).size, 0, 'a sidecar in the namespace');
});

test('credentialOf: only the TLS keys are kept; a Secret without them holds no credential', () => {
  assert.equal(credentialOf({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, spec: undefined, data: { password: b64('p') } }), undefined);
  assert.deepEqual(credentialOf({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, spec: undefined, data: { 'ca.crt': b64('CA'), other: b64('o') } }), { ca: 'CA' });
});

const policy = (selector: string, action = 'DENY') => `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: block-admin, namespace: istio-system}
spec:
  selector: {matchLabels: ${selector}}
  action: ${action}
  rules: [{to: [{operation: {paths: [/admin]}}]}]
`;

test('an AuthorizationPolicy selecting the gateway pod puts RBAC before the router on its HCMs and network RBAC before tcp_proxy', () => {
  const text = gateway('{mode: SIMPLE, credentialName: shop-cert}', policy('{istio: ingressgateway}'));
  const hcm = anyUnpack(listener(text, '0.0.0.0_443').filterChains[0]!.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
  const names = hcm.httpFilters.map((f) => f.name);
  assert.equal(names[0], 'envoy.filters.http.rbac');
  assert.equal(names.at(-1), 'envoy.filters.http.router');
  assert.equal(names.filter((n) => n === 'envoy.filters.http.rbac').length, 1);
  assert.deepEqual(listener(text, '0.0.0.0_31400').filterChains[0]!.filters.map((f) => f.name), ['envoy.filters.network.rbac', 'envoy.filters.network.tcp_proxy']);
});

test('a policy selecting other pods leaves the gateway alone', () => {
  const text = gateway('{mode: SIMPLE, credentialName: shop-cert}', policy('{app: productpage}'));
  const hcm = anyUnpack(listener(text, '0.0.0.0_443').filterChains[0]!.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
  assert.ok(!hcm.httpFilters.some((f) => f.name === 'envoy.filters.http.rbac'));
});

test('a RequestAuthentication selecting the gateway pod puts jwt_authn first', () => {
  const ra = `
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules: [{issuer: https://issuer.example.com, jwks: '{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}]}'}]
`;
  const text = gateway('{mode: SIMPLE, credentialName: shop-cert}', ra + policy('{istio: ingressgateway}'));
  const hcm = anyUnpack(listener(text, '0.0.0.0_443').filterChains[0]!.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
  assert.deepEqual(hcm.httpFilters.map((f) => f.name).slice(0, 2), ['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac']);
});

/** A Gateway API Gateway in "infra" whose HTTPS listener takes its certificate from the Secret "elsewhere" of "shop". */
const gatewayApi = (grant: boolean, refName = 'elsewhere') => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - name: tls
    port: 443
    protocol: HTTPS
    hostname: shop.example.com
    tls: {mode: Terminate, certificateRefs: [{name: ${refName}, namespace: shop}]}
${grant ? `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: edge-certs, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret, name: elsewhere}]
` : ''}`;
const edgeRouter = (ns = 'infra') => router(ns, { 'gateway.networking.k8s.io/gateway-name': 'edge' });

test('Gateway API certificateRef in another namespace, granted: the listener names "kubernetes-gateway://NS/NAME" and SDS serves that Secret to the Gateway\'s router', () => {
  const cfg = gatewayApi(true);
  const l = gen(cfg).generate(edgeRouter(), TypeUrl.Listener, undefined);
  const https = [...l.values()].map((r) => r.message as Listener).find((x) => x.filterChains.some((c) => c.transportSocket));
  assert.ok(https, 'an HTTPS listener');
  const ctx = anyUnpack(https.filterChains.find((c) => c.transportSocket)!.transportSocket!.configType.value as never, DownstreamTlsContextSchema)!;
  assert.deepEqual(ctx.commonTlsContext!.tlsCertificateSdsSecretConfigs.map((c) => c.name), ['kubernetes-gateway://shop/elsewhere']);
  const got = sds(cfg, edgeRouter(), ['kubernetes-gateway://shop/elsewhere']);
  assert.deepEqual([text(got.get('kubernetes-gateway://shop/elsewhere'), 'chain'), text(got.get('kubernetes-gateway://shop/elsewhere'), 'key')], ['E-CHAIN', 'E-KEY']);
});

test('Gateway API SDS authorization: no grant, a name the router\'s config does not use, a router of another namespace, a malformed name — nothing', () => {
  assert.equal(sds(gatewayApi(false), edgeRouter(), ['kubernetes-gateway://shop/elsewhere']).size, 0, 'the grant withdrawn');
  assert.equal(sds(gatewayApi(true), edgeRouter(), ['kubernetes-gateway://istio-system/shop-cert']).size, 0, 'a Secret the config never named');
  assert.equal(sds(gatewayApi(true), router('other', { 'gateway.networking.k8s.io/gateway-name': 'edge' }), ['kubernetes-gateway://shop/elsewhere']).size, 0, 'a router of another namespace');
  assert.equal(sds(gatewayApi(true), edgeRouter(), ['kubernetes-gateway://shop', 'kubernetes-gateway:///elsewhere', 'kubernetes-gateway://a/b/c']).size, 0);
  assert.equal(sds(gatewayApi(true), edgeRouter('shop'), ['kubernetes-gateway://shop/elsewhere']).size, 1, 'the control: a router of the Secret\'s own namespace');
});

test('a ReferenceGrant for another Secret name does not cover this one', () => {
  const cfg = gatewayApi(true, 'split') + gatewayApi(true).split('---').slice(2).map((d) => `---${d}`).join('');
  assert.equal(sds(cfg, edgeRouter(), ['kubernetes-gateway://shop/split']).size, 0);
});
