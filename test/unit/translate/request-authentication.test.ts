/**
 * RequestAuthentication through the real generator, compared with what
 * istiod's convertToEnvoyJwtConfig writes (policy_applier.go): providers
 * origins-N over the rules sorted by issuer, requires_any {provider,
 * allow_missing} (and the outer OR with one AND over them for several),
 * inline keys (the rule's jwks, the fetched jwksUri, or the reject-all key
 * set), the filter before RBAC on the selected workloads' inbound HCMs only.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { fakeJwks } from '../../../src/controlplane/translate/authn/jwt-authn.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import { modelOf, sidecarNode, testRoutes } from './helpers.js';

const mesh = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.5.1, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web}}
status: {podIP: 10.5.0.1, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: shop, labels: {app: db}}
status: {podIP: 10.5.0.2, phase: Running}
`;

const JWKS = '{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}';

const ra = (name: string, spec: string, ns = 'shop') => `
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ${name}, namespace: ${ns}}
spec: ${spec}`;

/** The inbound HTTP chain's filters of a pod: names, and the jwt_authn config as JSON. */
function inbound(yaml: string, pod = 'web-1', ip = '10.5.0.1', jwks?: (uri: string) => string | undefined) {
  const gen = createGenerator(modelOf(yaml), testRoutes, jwks);
  const l = anyUnpack(gen.generate(sidecarNode(ip, pod, 'shop'), TypeUrl.Listener, undefined).get('virtualInbound')!.any, ListenerSchema)!;
  // A pod no service selects has only the passthrough chains.
  const chain = l.filterChains.find((c) => c.name === '0.0.0.0_8080' && c.filterChainMatch?.transportProtocol === 'raw_buffer')
    ?? l.filterChains.find((c) => c.name === 'virtualInbound-catchall-http')!;
  const hcm = anyUnpack(chain.filters[0]!.configType.value as never, HttpConnectionManagerSchema)!;
  const jwt = hcm.httpFilters.find((f) => f.name === 'envoy.filters.http.jwt_authn');
  const cfg = jwt ? (toJson(HttpConnectionManagerSchema, hcm, { registry: xdsRegistry }) as { httpFilters: { typedConfig: Record<string, unknown> }[] }).httpFilters[0]!.typedConfig : undefined;
  return { names: hcm.httpFilters.map((f) => f.name), cfg };
}

const provider = (issuer: string, inline: string, extra: Record<string, unknown> = {}) => ({
  issuer, ...extra, localJwks: { inlineString: inline }, payloadInMetadata: 'payload', normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'scope'] },
});

describe('RequestAuthentication → envoy.filters.http.jwt_authn (istiod\'s shape)', () => {
  test('one rule: origins-0, provider or allow_missing on prefix /, CORS preflight bypassed; before RBAC', () => {
    const ap = `\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: shop}\nspec: {rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]}`;
    const r = inbound(mesh + ra('jwt', `{selector: {matchLabels: {app: web}}, jwtRules: [{issuer: "https://example.com", jwks: '${JWKS}', audiences: [a, b], forwardOriginalToken: true, outputPayloadToHeader: x-payload, outputClaimToHeaders: [{header: x-sub, claim: sub}], fromHeaders: [{name: x-jwt, prefix: "Bearer "}], fromParams: [token], fromCookies: [session]}]}`) + ap);
    assert.deepEqual(r.names, ['envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac', 'envoy.filters.http.router']);
    assert.deepEqual(r.cfg, {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: {
        'origins-0': {
          issuer: 'https://example.com', audiences: ['a', 'b'],
          localJwks: { inlineString: JWKS },
          forward: true,
          fromHeaders: [{ name: 'x-jwt', valuePrefix: 'Bearer ' }], fromParams: ['token'], fromCookies: ['session'],
          forwardPayloadHeader: 'x-payload', payloadInMetadata: 'payload',
          normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'scope'] },
          claimToHeaders: [{ headerName: 'x-sub', claimName: 'sub' }],
        },
      },
      rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [{ providerName: 'origins-0' }, { allowMissing: {} }] } } }],
      bypassCorsPreflight: true,
    });
  });

  test('several rules from several policies: sorted by issuer, OR of each alone and of the AND of {provider or missing}', () => {
    const r = inbound(mesh + ra('b', `{jwtRules: [{issuer: zeta, jwks: '${JWKS}'}]}`) + ra('a', `{jwtRules: [{issuer: alpha, jwks: '${JWKS}', spaceDelimitedClaims: [roles]}]}`, 'istio-system'));
    const cfg = r.cfg as { providers: Record<string, unknown>; rules: unknown[] };
    assert.deepEqual(cfg.providers, {
      'origins-0': { ...provider('alpha', JWKS), normalizePayloadInMetadata: { spaceDelimitedClaims: ['permission', 'roles', 'scope'] } },
      'origins-1': provider('zeta', JWKS),
    });
    const either = (n: string) => ({ requiresAny: { requirements: [{ providerName: n }, { allowMissing: {} }] } });
    assert.deepEqual(cfg.rules, [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [
      { providerName: 'origins-0' }, { providerName: 'origins-1' },
      { requiresAll: { requirements: [either('origins-0'), either('origins-1')] } },
    ] } } }]);
  });

  test('jwksUri: the fetched keys inline; before a good fetch, istiod\'s key set that rejects every token', () => {
    const yaml = mesh + ra('jwt', '{jwtRules: [{issuer: iss, jwksUri: "http://keys.example/jwks.json"}]}');
    const fetched = inbound(yaml, 'web-1', '10.5.0.1', (uri) => (uri === 'http://keys.example/jwks.json' ? JWKS : undefined)).cfg as { providers: Record<string, { localJwks: unknown }> };
    assert.deepEqual(fetched.providers['origins-0']!.localJwks, { inlineString: JWKS });
    const missing = inbound(yaml).cfg as { providers: Record<string, { localJwks: unknown }> };
    assert.deepEqual(missing.providers['origins-0']!.localJwks, { inlineString: fakeJwks('http://keys.example/jwks.json') });
    assert.deepEqual(JSON.parse(fakeJwks('http://keys.example/jwks.json')), { keys: [{ e: 'AQAB', kid: 'abc', kty: 'RSA', n: 'aHR0cDovL2tleXMuZXhhbXBsZS9qd2tzLmpzb24' }] });
  });

  test('only selected workloads get the filter; a targetRef policy is not a sidecar\'s; no rules, no filter', () => {
    const yaml = mesh + ra('web-only', `{selector: {matchLabels: {app: web}}, jwtRules: [{issuer: x, jwks: '${JWKS}'}]}`)
      + ra('gw', `{targetRef: {kind: Service, name: web}, jwtRules: [{issuer: y, jwks: '${JWKS}'}]}`);
    assert.ok(inbound(yaml).names.includes('envoy.filters.http.jwt_authn'));
    assert.equal(Object.keys((inbound(yaml).cfg as { providers: object }).providers).length, 1);
    assert.deepEqual(inbound(yaml, 'db-1', '10.5.0.2').names, ['envoy.filters.http.router']);
    assert.deepEqual(inbound(mesh + ra('empty', '{}')).names, ['envoy.filters.http.router']);
  });
});
