/**
 * What Trellis does not implement of AuthorizationPolicy is reported
 * (CONFIG_UNSUPPORTED, with what happens instead) at the line of the field,
 * and the policy stays in service.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yaml } from '../config/helpers.js';
import { analyzeFiles, lineOfText } from './helpers.js';

const policies = yaml`
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: ext, namespace: foo}
  spec:
    action: CUSTOM
    provider: {name: opa}
    rules: [{to: [{operation: {paths: [/admin]}}]}]
  ---
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: gw, namespace: foo}
  spec:
    targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]
    rules: [{}]
  ---
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: jwt, namespace: foo}
  spec:
    rules:
    - from: [{source: {namespaces: [a]}}]
    - when:
      - key: request.auth.claims[iss]
        values: [https://issuer]
  ---
  apiVersion: security.istio.io/v1
  kind: RequestAuthentication
  metadata: {name: gw-jwt, namespace: foo}
  spec:
    targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: gw}
    jwtRules: [{issuer: https://issuer}]
  ---
  apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: plain, namespace: foo}
  spec:
    action: DENY
    rules: [{from: [{source: {namespaces: [b]}}]}]
`;

test('CUSTOM and targetRef(s) are reported as unsupported, at their lines; plain and JWT policies (RequestAuthentication is implemented) are not', () => {
  const found = analyzeFiles({ 'authz.yaml': policies });
  assert.deepEqual(found.map((p) => [p.code, p.name, p.severity, p.line]), [
    ['CONFIG_UNSUPPORTED', 'Unsupported', 'Warning', lineOfText(policies, 'action: CUSTOM')],
    ['CONFIG_UNSUPPORTED', 'Unsupported', 'Warning', lineOfText(policies, 'targetRefs:')],
    ['CONFIG_UNSUPPORTED', 'Unsupported', 'Warning', lineOfText(policies, 'targetRef: {kind: Gateway')],
  ]);
  assert.match(found[0]!.reason, /^AuthorizationPolicy foo\/ext: spec\.action: action CUSTOM \(provider "opa"\) is not supported: .* denied/);
  assert.match(found[2]!.reason, /^RequestAuthentication foo\/gw-jwt: spec\.targetRef: targetRef\(s\) attach a policy to Kubernetes Gateway API gateways and waypoints, .*Istio ingress gateway selects its pod with selector/);
});
