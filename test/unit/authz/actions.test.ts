/**
 * Which policies a workload gets and the filters they become: selection
 * (selector, root namespace, targetRefs), istiod's filter order (CUSTOM,
 * AUDIT, DENY, ALLOW), policies without rules, dry-run, and CUSTOM without a
 * provider — as istiod's builder (testdata allow-nil-rule, allow-empty-rule,
 * deny-empty-rule, dry-run-*, audit-full-rule, custom-bad-out).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonValue } from '@bufbuild/protobuf';
import { expected, rbacJson } from './helpers.js';

const doc = (meta: string, spec: string) => `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: ${meta}
spec: ${spec}`;

const mesh = [
  doc('{name: allow-nothing, namespace: foo, creationTimestamp: "2024-01-01T00:00:02Z"}', '{}'),
  doc('{name: allow-all, namespace: foo, creationTimestamp: "2024-01-01T00:00:01Z"}', '{rules: [{}]}'),
  doc('{name: deny-all, namespace: foo}', '{action: DENY, rules: [{}]}'),
  doc('{name: mesh-audit, namespace: istio-system}', '{action: AUDIT, rules: [{to: [{operation: {methods: [DELETE]}}]}]}'),
  doc('{name: try-deny, namespace: foo, annotations: {istio.io/dry-run: "true"}}', '{action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}'),
  doc('{name: ext, namespace: foo}', '{action: CUSTOM, provider: {name: opa}, rules: [{to: [{operation: {paths: [/ext]}}]}]}'),
  // Not for this workload: another app, another namespace, a gateway's policy.
  doc('{name: other-app, namespace: foo}', '{selector: {matchLabels: {app: other}}, action: DENY, rules: [{}]}'),
  doc('{name: other-ns, namespace: bar}', '{action: DENY, rules: [{}]}'),
  doc('{name: gw, namespace: foo}', '{targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}], action: DENY, rules: [{}]}'),
].join('');

type Rbac = { typedConfig: { rules?: { action?: string; policies?: Record<string, JsonValue> }; shadowRules?: { action?: string; policies?: Record<string, JsonValue> }; shadowRulesStatPrefix?: string; statPrefix?: string } };
const anyRule = expected('{permissions: [{andRules: {rules: [{any: true}]}}], principals: [{andIds: {ids: [{any: true}]}}]}');

describe('actions and selection', () => {
  const out = rbacJson(mesh);
  const http = out.http as Rbac[];

  test('one filter per action, in istiod\'s order: CUSTOM (as DENY), AUDIT (LOG), DENY, ALLOW; root namespace policies apply to every workload', () => {
    assert.deepEqual(http.map((f) => [f.typedConfig.rules?.action ?? 'ALLOW', Object.keys(f.typedConfig.rules?.policies ?? {})]), [
      ['DENY', ['istio-ext-authz-opa-ns[foo]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action']],
      ['LOG', ['ns[istio-system]-policy[mesh-audit]-rule[0]']],
      ['DENY', ['ns[foo]-policy[deny-all]-rule[0]']],
      ['ALLOW', ['ns[foo]-policy[allow-all]-rule[0]', 'ns[foo]-policy[allow-nothing]-rule[0]']],
    ]);
    assert.deepEqual(out.tcp.map((f) => (f as Rbac).typedConfig.statPrefix), ['tcp.', 'tcp.', 'tcp.', 'tcp.']);
  });

  test('an empty rule matches everything; a policy without rules matches nothing (ALLOW: allows nothing)', () => {
    const allow = http[3]!.typedConfig.rules!.policies!;
    assert.deepEqual(allow['ns[foo]-policy[allow-all]-rule[0]'], anyRule);
    assert.deepEqual(allow['ns[foo]-policy[allow-nothing]-rule[0]'], expected('{permissions: [{notRule: {any: true}}], principals: [{notId: {any: true}}]}'));
    assert.deepEqual(http[2]!.typedConfig.rules!.policies!['ns[foo]-policy[deny-all]-rule[0]'], anyRule);
  });

  test('dry-run policies are shadow rules of their action, counted under istio_dry_run_<action>_', () => {
    const deny = http[2]!.typedConfig;
    assert.equal(deny.shadowRules?.action, 'DENY');
    assert.deepEqual(Object.keys(deny.shadowRules?.policies ?? {}), ['ns[foo]-policy[try-deny]-rule[0]']);
    assert.equal(deny.shadowRulesStatPrefix, 'istio_dry_run_deny_');
    // istiod names the ALLOW prefix even where there are no shadow rules.
    assert.deepEqual([http[1]!.typedConfig.shadowRulesStatPrefix, http[3]!.typedConfig.shadowRulesStatPrefix], ['istio_dry_run_allow_', 'istio_dry_run_allow_']);
    // Only dry-run policies: the action's filter enforces nothing.
    const only = rbacJson(doc('{name: t, namespace: foo, annotations: {istio.io/dry-run: "true"}}', '{rules: [{}]}')).http[0] as Rbac;
    assert.equal(only.typedConfig.rules, undefined);
    assert.deepEqual(only.typedConfig.shadowRules?.policies, { 'ns[foo]-policy[t]-rule[0]': anyRule });
  });

  test('CUSTOM without a provider denies what it would have sent to the provider; no shadow stat prefix', () => {
    assert.deepEqual(out.http[0], expected(`
name: envoy.filters.http.rbac
typedConfig:
  '@type': type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
  rules:
    action: DENY
    policies:
      istio-ext-authz-opa-ns[foo]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action:
        permissions: [{andRules: {rules: [{orRules: {rules: [{urlPath: {path: {exact: /ext}}}]}}]}}]
        principals: [{andIds: {ids: [{any: true}]}}]
`));
    // Over TCP the path is HTTP only: the deny widens to every connection, as for DENY.
    assert.deepEqual((out.tcp[0] as Rbac).typedConfig.rules!.policies!['istio-ext-authz-opa-ns[foo]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action'], anyRule);
  });

  test('no policy selecting the workload: no filter at all', () => {
    const none = rbacJson(doc('{name: x, namespace: foo}', '{selector: {matchLabels: {app: other}}, rules: [{}]}'));
    assert.deepEqual(none, { http: [], tcp: [] });
  });
});
