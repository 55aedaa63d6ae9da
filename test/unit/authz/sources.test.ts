/**
 * AuthorizationPolicy `from` fields as RBAC principals, checked against what
 * istiod's builder generates for the same input (the shapes of
 * pilot/pkg/security/authz/builder/testdata, allow-full-rule and
 * simple-policy-*): field order, "*" forms, regexes, CIDRs, the trust domain.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expected, rbacJson } from './helpers.js';

const policy = (rules: string, meta = '{name: p, namespace: foo}') => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: ${meta}
spec:
  selector: {matchLabels: {app: httpbin}}
  rules:
${rules}`;

const authn = (m: string) => `{authenticated: {principalName: ${m}}}`;

describe('from: principals', () => {
  test('serviceAccounts: "ns/sa" or the policy namespace; SPIFFE ids with extra segments still match', () => {
    const out = rbacJson(policy(`  - from: [{source: {serviceAccounts: ["bar/reader", "writer"], notServiceAccounts: ["bar/banned"]}}]`));
    assert.deepEqual(out.http, [expected(`
name: envoy.filters.http.rbac
typedConfig:
  '@type': type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
  rules:
    policies:
      ns[foo]-policy[p]-rule[0]:
        permissions: [{andRules: {rules: [{any: true}]}}]
        principals:
        - andIds:
            ids:
            - orIds: {ids: [${authn('{safeRegex: {regex: "spiffe://.+/ns/bar/(.+/|)sa/reader(/.+)?"}}')}, ${authn('{safeRegex: {regex: "spiffe://.+/ns/foo/(.+/|)sa/writer(/.+)?"}}')}]}
            - notId: {orIds: {ids: [${authn('{safeRegex: {regex: "spiffe://.+/ns/bar/(.+/|)sa/banned(/.+)?"}}')}]}}
  shadowRulesStatPrefix: istio_dry_run_allow_
`)]);
  });

  test('every source field, in istiod\'s order: principals, trust domains, namespaces, remote IPs, IPs', () => {
    const out = rbacJson(policy(`  - from:
    - source:
        principals: ["cluster.local/ns/bar/sa/reader", "pre-*", "*-post", "*"]
        notPrincipals: ["cluster.local/ns/bar/sa/evil"]
        namespaces: ["bar", "team-*", "*-prod"]
        notNamespaces: ["kube-system"]
        ipBlocks: ["10.1.0.0/16", "10.2.3.4"]
        notIpBlocks: ["2001:DB8::1"]
        remoteIpBlocks: ["192.168.0.0/24"]
        trustDomains: ["cluster.local", "*.example.org"]`));
    const rule = (out.http[0] as { typedConfig: { rules: { policies: Record<string, unknown> } } }).typedConfig.rules.policies['ns[foo]-policy[p]-rule[0]'];
    assert.deepEqual(rule, expected(`
permissions: [{andRules: {rules: [{any: true}]}}]
principals:
- andIds:
    ids:
    - orIds:
        ids:
        - ${authn('{exact: "spiffe://cluster.local/ns/bar/sa/reader"}')}
        - ${authn('{prefix: "spiffe://pre-"}')}
        - ${authn('{safeRegex: {regex: "spiffe://.*-post"}}')}
        - ${authn('{safeRegex: {regex: ".+"}}')}
    - notId: {orIds: {ids: [${authn('{exact: "spiffe://cluster.local/ns/bar/sa/evil"}')}]}}
    - orIds:
        ids:
        - ${authn('{prefix: "spiffe://cluster.local/"}')}
        - ${authn('{safeRegex: {regex: "spiffe://[^/]*\\\\.example\\\\.org/.*"}}')}
    - orIds:
        ids:
        - ${authn('{safeRegex: {regex: ".*/ns/bar/.*"}}')}
        - ${authn('{safeRegex: {regex: ".*/ns/team-.*/.*"}}')}
        - ${authn('{safeRegex: {regex: ".*/ns/.*-prod/.*"}}')}
    - notId: {orIds: {ids: [${authn('{safeRegex: {regex: ".*/ns/kube-system/.*"}}')}]}}
    - orIds: {ids: [{remoteIp: {addressPrefix: 192.168.0.0, prefixLen: 24}}]}
    - orIds: {ids: [{directRemoteIp: {addressPrefix: 10.1.0.0, prefixLen: 16}}, {directRemoteIp: {addressPrefix: 10.2.3.4, prefixLen: 32}}]}
    - notId: {orIds: {ids: [{directRemoteIp: {addressPrefix: "2001:db8::1", prefixLen: 128}}]}}
`));
    // The TCP filter reads the same principals: none of them is HTTP-only.
    const tcpRule = (out.tcp[0] as { typedConfig: { rules: { policies: Record<string, unknown> } } }).typedConfig.rules.policies['ns[foo]-policy[p]-rule[0]'];
    assert.deepEqual(tcpRule, rule);
  });

  test('principals written for cluster.local are rewritten for the mesh\'s trust domain; "*" trust domains and others are kept', () => {
    const out = rbacJson(policy(`  - from: [{source: {principals: ["cluster.local/ns/a/sa/b", "*/ns/a/sa/c", "other.td/ns/a/sa/d", "ns/a"]}}]`), { trustDomain: 'example.org' });
    const rule = (out.http[0] as { typedConfig: { rules: { policies: Record<string, unknown> } } }).typedConfig.rules.policies['ns[foo]-policy[p]-rule[0]'];
    assert.deepEqual(rule, expected(`
permissions: [{andRules: {rules: [{any: true}]}}]
principals:
- andIds:
    ids:
    - orIds:
        ids:
        - ${authn('{exact: "spiffe://example.org/ns/a/sa/b"}')}
        - ${authn('{safeRegex: {regex: "spiffe://.*/ns/a/sa/c"}}')}
        - ${authn('{exact: "spiffe://other.td/ns/a/sa/d"}')}
        - ${authn('{exact: "spiffe://ns/a"}')}
`));
  });

  test('requestPrincipals: issuer and subject from the JWT payload (the last "/" splits), with Istio\'s "*" forms', () => {
    const out = rbacJson(policy(`  - from: [{source: {requestPrincipals: ["https://issuer.example/alice", "https://issuer.example/*", "*@example", "*"], notRequestPrincipals: ["noslash"]}}]`));
    const jwt = (claim: string, m: string) => `{metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, {key: ${claim}}], value: {stringMatch: ${m}}}}`;
    const any = '{safeRegex: {regex: ".+"}}';
    const rule = (out.http[0] as { typedConfig: { rules: { policies: Record<string, unknown> } } }).typedConfig.rules.policies['ns[foo]-policy[p]-rule[0]'];
    assert.deepEqual(rule, expected(`
permissions: [{andRules: {rules: [{any: true}]}}]
principals:
- andIds:
    ids:
    - orIds:
        ids:
        - andIds: {ids: [${jwt('iss', '{exact: "https://issuer.example"}')}, ${jwt('sub', '{exact: alice}')}]}
        - andIds: {ids: [${jwt('iss', '{exact: "https://issuer.example"}')}, ${jwt('sub', any)}]}
        - andIds: {ids: [${jwt('iss', any)}, ${jwt('sub', '{suffix: "@example"}')}]}
        - andIds: {ids: [${jwt('iss', any)}, ${jwt('sub', any)}]}
    - notId: {andIds: {ids: [${jwt('iss', '{exact: noslash}')}, ${jwt('sub', '{exact: ""}')}]}}
`));
    // JWT is HTTP only: an ALLOW rule that needs it cannot match a TCP connection, so it is dropped there.
    assert.deepEqual(out.tcp, [expected(`
name: envoy.filters.network.rbac
typedConfig: {'@type': type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC, rules: {}, statPrefix: tcp., shadowRulesStatPrefix: istio_dry_run_allow_}
`)]);
  });
});
