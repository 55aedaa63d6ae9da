/**
 * Istio's validation of AuthorizationPolicy and PeerAuthentication
 * (ValidateAuthorizationPolicy, ValidatePeerAuthentication): for each rule a
 * valid document and one change that breaks it, with the reason and line.
 * An invalid policy is reported and skipped; the rest of the config serves.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf } from './helpers.js';

const ap = (spec: string) => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\nspec:\n${spec}`;
const pa = (spec: string) => `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: foo}\nspec:\n${spec}`;

const rows: { rule: string; valid: string; invalid: string; reason: string; line: number }[] = [
  {
    rule: 'DENY needs rules (an empty rule denies everything)',
    valid: ap('  action: DENY\n  rules: [{}]\n'),
    invalid: ap('  action: DENY\n  rules: []\n'),
    reason: 'spec.rules: DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request',
    line: 6,
  },
  {
    rule: 'CUSTOM needs rules',
    valid: ap('  action: CUSTOM\n  provider: {name: opa}\n  rules: [{}]\n'),
    invalid: ap('  action: CUSTOM\n  provider: {name: opa}\n'),
    reason: 'spec.rules: CUSTOM action without `rules` is meaningless',
    line: 4,
  },
  {
    rule: 'from and to are not empty lists',
    valid: ap('  rules:\n  - from: [{source: {namespaces: [a]}}]\n'),
    invalid: ap('  rules:\n  - from: []\n'),
    reason: 'spec.rules[0].from: `from` must not be empty',
    line: 6,
  },
  {
    rule: 'a source sets something',
    valid: ap('  rules:\n  - from:\n    - source: {notNamespaces: [a]}\n'),
    invalid: ap('  rules:\n  - from:\n    - source: {}\n'),
    reason: 'spec.rules[0].from[0].source: `from.source` must not be empty',
    line: 7,
  },
  {
    rule: 'an operation sets something',
    valid: ap('  rules:\n  - to:\n    - operation: {notPaths: [/x]}\n'),
    invalid: ap('  rules:\n  - to:\n    - operation: {}\n'),
    reason: 'spec.rules[0].to[0].operation: `to.operation` must not be empty',
    line: 7,
  },
  {
    rule: 'ipBlocks are addresses or CIDRs',
    valid: ap('  rules:\n  - from:\n    - source:\n        ipBlocks: [10.0.0.0/8, "::1"]\n'),
    invalid: ap('  rules:\n  - from:\n    - source:\n        ipBlocks: [10.0.0.0/8, 10.0.0.300]\n'),
    reason: 'spec.rules[0].from[0].source.ipBlocks[1]: bad IP address (10.0.0.300)',
    line: 8,
  },
  {
    rule: 'serviceAccounts are sa or ns/sa, without principals or namespaces beside them',
    valid: ap('  rules:\n  - from:\n    - source:\n        serviceAccounts: [bar/reader, writer]\n'),
    invalid: ap('  rules:\n  - from:\n    - source:\n        serviceAccounts: [bar/reader/x]\n'),
    reason: "spec.rules[0].from[0].source.serviceAccounts[0]: expected format 'serviceAccount' or 'namespace/serviceAccount', found \"bar/reader/x\"",
    line: 8,
  },
  {
    rule: 'serviceAccounts exclude namespaces and principals',
    valid: ap('  rules:\n  - from:\n    - source:\n        serviceAccounts: [reader]\n        ipBlocks: [10.0.0.1]\n'),
    invalid: ap('  rules:\n  - from:\n    - source:\n        serviceAccounts: [reader]\n        namespaces: [bar]\n'),
    reason: 'spec.rules[0].from[0].source: cannot set serviceAccounts with namespaces or principals',
    line: 7,
  },
  {
    rule: 'no empty values',
    valid: ap('  rules:\n  - to:\n    - operation:\n        methods: [GET]\n'),
    invalid: ap('  rules:\n  - to:\n    - operation:\n        methods: [""]\n'),
    reason: 'spec.rules[0].to[0].operation.methods[0]: empty value not allowed',
    line: 8,
  },
  {
    rule: 'ports are numbers up to 65535',
    valid: ap('  rules:\n  - to:\n    - operation:\n        ports: ["8080"]\n'),
    invalid: ap('  rules:\n  - to:\n    - operation:\n        ports: ["http"]\n'),
    reason: 'spec.rules[0].to[0].operation.ports[0]: bad port (http)',
    line: 8,
  },
  {
    rule: 'path templates: {*} and {**} whole segments, {**} last',
    valid: ap('  rules:\n  - to:\n    - operation:\n        paths: ["/a/{*}/b/{**}"]\n'),
    invalid: ap('  rules:\n  - to:\n    - operation:\n        paths: ["/a/{**}/b/{*}"]\n'),
    reason: 'spec.rules[0].to[0].operation.paths[0]: invalid or unsupported path /a/{**}/b/{*}: {**} is not the last operator',
    line: 8,
  },
  {
    rule: 'when: a key Istio knows',
    valid: ap('  rules:\n  - when:\n    - {key: connection.sni, values: [a.example.com]}\n'),
    invalid: ap('  rules:\n  - when:\n    - {key: source.pod, values: [a]}\n'),
    reason: 'spec.rules[0].when[0].values: invalid `value` for `key` source.pod: unknown attribute: source.pod',
    line: 7,
  },
  {
    rule: 'when: values or notValues',
    valid: ap('  rules:\n  - when:\n    - {key: source.ip, notValues: [10.0.0.1]}\n'),
    invalid: ap('  rules:\n  - when:\n    - {key: source.ip}\n'),
    reason: 'spec.rules[0].when[0]: at least one of `values` or `notValues` must be set for key source.ip',
    line: 7,
  },
  {
    rule: 'when: header keys name the header in brackets',
    valid: ap('  rules:\n  - when:\n    - {key: "request.headers[x-user]", values: [a]}\n'),
    invalid: ap('  rules:\n  - when:\n    - {key: "request.headers[]", values: [a]}\n'),
    reason: 'spec.rules[0].when[0].values: invalid `value` for `key` request.headers[]: bad key (request.headers[]): should have format a[b]',
    line: 7,
  },
  {
    rule: 'when: destination.port is a port',
    valid: ap('  rules:\n  - when:\n    - {key: destination.port, values: ["80"]}\n'),
    invalid: ap('  rules:\n  - when:\n    - {key: destination.port, notValues: ["99999"]}\n'),
    reason: 'spec.rules[0].when[0].notValues: invalid `notValue` for `key` destination.port: bad port (99999)',
    line: 7,
  },
  {
    rule: 'a selector or target references, not both',
    valid: ap('  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n  rules: [{}]\n'),
    invalid: ap('  selector: {matchLabels: {app: a}}\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n  rules: [{}]\n'),
    reason: 'spec: only one of targetRefs or workloadSelector can be set',
    line: 4,
  },
  {
    rule: 'targetRef in the policy namespace, to a known kind',
    valid: ap('  targetRef: {kind: Service, name: web}\n'),
    invalid: ap('  targetRef: {kind: Service, name: web, namespace: other}\n'),
    reason: 'spec.targetRef.namespace: targetRef namespace must not be set; cross namespace referencing is not supported',
    line: 5,
  },
  {
    rule: 'selectors without wildcards',
    valid: ap('  selector: {matchLabels: {app: web}}\n'),
    invalid: ap('  selector: {matchLabels: {app: "web-*"}}\n'),
    reason: 'spec.selector.matchLabels.app: wildcard is not supported in selector: "app=web-*"',
    line: 5,
  },
  {
    rule: 'PeerAuthentication: portLevelMtls only with a selector that has labels',
    valid: pa('  selector: {matchLabels: {app: a}}\n  portLevelMtls: {"80": {mode: DISABLE}}\n'),
    invalid: pa('  selector: {matchLabels: {}}\n  portLevelMtls: {"80": {mode: DISABLE}}\n'),
    reason: 'spec.portLevelMtls: mesh/namespace peer authentication cannot have port level mTLS',
    line: 6,
  },
  {
    rule: 'PeerAuthentication: portLevelMtls not empty',
    valid: pa('  selector: {matchLabels: {app: a}}\n'),
    invalid: pa('  selector: {matchLabels: {app: a}}\n  portLevelMtls: {}\n'),
    reason: 'spec.portLevelMtls: port level mTLS, if defined, must have at least one element',
    line: 6,
  },
];

describe('security validation, Istio\'s rules', () => {
  for (const r of rows) {
    test(r.rule, () => {
      assert.deepEqual(problemsOf(r.valid).map((p) => p.reason), [], 'the valid document');
      const problems = problemsOf(r.invalid);
      assert.equal(problems.length, 1, problems.map((p) => p.reason).join('\n'));
      assert.ok(problems[0]!.reason.includes(r.reason), problems[0]!.reason);
      assert.equal(problems[0]!.line, r.line, problems[0]!.reason);
    });
  }
});
