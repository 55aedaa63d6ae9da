/**
 * What converting the Gateway API finds is reported at the offending field's
 * line (issue 13: nothing accepted silently): a missing backend (IST0101), a
 * route a listener refuses (TRL0003), fields Trellis does not implement
 * (CONFIG_UNSUPPORTED) — and an Istio Gateway's rules never apply to the
 * Gateway API's Gateway of the same name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yaml } from '../config/helpers.js';
import { analyzeFiles, lineOfText } from './helpers.js';

const text = yaml`
  apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: shop}
  spec: {ports: [{name: http, port: 80}]}
  ---
  apiVersion: gateway.networking.k8s.io/v1
  kind: Gateway
  metadata: {name: edge, namespace: shop}
  spec:
    gatewayClassName: istio
    infrastructure: {labels: {team: shop}}
    listeners:
    - {name: web, port: 80, protocol: HTTP}
    - name: secure
      port: 443
      protocol: HTTPS
      tls: {certificateRefs: [{name: shop-cert}]}
  ---
  apiVersion: gateway.networking.k8s.io/v1
  kind: HTTPRoute
  metadata: {name: web, namespace: shop}
  spec:
    parentRefs: [{name: edge}]
    rules:
    - backendRefs:
      - {name: web, port: 80}
      - {name: web-canary, port: 80}
  ---
  apiVersion: gateway.networking.k8s.io/v1
  kind: HTTPRoute
  metadata: {name: outsider, namespace: other}
  spec:
    parentRefs: [{name: edge, namespace: shop}]
    rules: [{backendRefs: [{name: web, namespace: shop, port: 80}]}]
`;

test('Gateway API findings are placed at their fields, with their codes', () => {
  const problems = analyzeFiles({ 'gw.yaml': text });
  const got = problems.map((p) => `${p.code} ${p.line} ${p.reason}`);
  const at = (needle: string) => lineOfText(text, needle);
  assert.deepEqual(got, [
    `CONFIG_UNSUPPORTED ${at('infrastructure:')} Gateway shop/edge: spec.infrastructure: infrastructure is not implemented: Trellis deploys no gateway pods; a router proxy labelled gateway.networking.k8s.io/gateway-name serves the Gateway`,
    `CONFIG_UNSUPPORTED ${at('certificateRefs:')} Gateway shop/edge: spec.listeners[1].tls.certificateRefs: certificates from Kubernetes Secrets are not implemented for gateways: this listener is not served`,
    `IST0101 ${at('{name: web-canary')} HTTPRoute shop/web: spec.rules[0].backendRefs[1].name: backend(web-canary.shop.svc.cluster.local) not found: its share of requests is answered 500`,
    `TRL0003 ${at('parentRefs: [{name: edge, namespace: shop}]')} HTTPRoute other/outsider: spec.parentRefs[0]: not accepted by Gateway shop/edge: NotAllowedByListeners: listener "secure" does not allow routes from namespace "other"`,
  ]);
});
