/**
 * L4 authorization as ztunnel evaluates it (src/ztunnel/policy/): one
 * connection per row through compiled workload-API Authorizations. Each row
 * is a way a wrong evaluator would decide differently: DENY before ALLOW,
 * ALLOW present and none matching, no policy at all, principals without
 * "spiffe://", the not_ variants, presence against plain text (STRICT),
 * CIDRs, ports, service accounts, clauses ANDed and matches ORed, empty
 * matches skipped, dry-run ignored, scopes (global, namespace, selector).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import {
  Action, AddressSchema, AuthorizationSchema, ClauseSchema, MatchSchema, RuleSchema, Scope, ServiceAccountMatchSchema, StringMatchSchema,
  type Match,
} from '../../../src/gen/workloadapi/security/authorization_pb.js';
import { compilePolicy, type CompiledPolicy } from '../../../src/ztunnel/policy/compiled-policy.js';
import { applicable, authorize, type L4Connection } from '../../../src/ztunnel/policy/evaluate.js';

type MatchInit = Parameters<typeof create<typeof MatchSchema>>[1];
const exact = (v: string) => create(StringMatchSchema, { matchType: { case: 'exact', value: v } });
const prefix = (v: string) => create(StringMatchSchema, { matchType: { case: 'prefix', value: v } });
const suffix = (v: string) => create(StringMatchSchema, { matchType: { case: 'suffix', value: v } });
const presence = () => create(StringMatchSchema, { matchType: { case: 'presence', value: create(EmptySchema) } });
const cidr = (ip: string, length: number) => create(AddressSchema, { address: Uint8Array.from(ip.split('.').map(Number)), length });

/** A policy of rules, each a list of clauses, each a list of matches. */
function policy(name: string, action: Action, rules: MatchInit[][][], extra: { scope?: Scope; namespace?: string; dryRun?: boolean } = {}): CompiledPolicy {
  const a = create(AuthorizationSchema, {
    name, namespace: 'shop', scope: Scope.WORKLOAD_SELECTOR, action,
    rules: rules.map((clauses) => create(RuleSchema, { clauses: clauses.map((ms) => create(ClauseSchema, { matches: ms.map((m) => create(MatchSchema, m)) })) })),
    ...extra,
  });
  const c = compilePolicy(a);
  assert.ok(c.ok, JSON.stringify(c));
  return c.value;
}
const allow = (rules: MatchInit[][][], extra?: { dryRun?: boolean }) => policy(`allow-${JSON.stringify(rules).length}`, Action.ALLOW, rules, extra);
const deny = (rules: MatchInit[][][], extra?: { dryRun?: boolean }) => policy(`deny-${JSON.stringify(rules).length}`, Action.DENY, rules, extra);

const frontend: L4Connection = { sourceIp: '10.1.0.5', destinationIp: '10.1.0.9', destinationPort: 8080, identity: { trustDomain: 'cluster.local', namespace: 'front', serviceAccount: 'web' } };
const plain: L4Connection = { sourceIp: '10.1.0.6', destinationIp: '10.1.0.9', destinationPort: 8080 };
const strict = () => deny([[[{ notPrincipals: [presence()] } as Match]]]);

describe('L4 policy: ztunnel\'s evaluation', () => {
  const rows: Array<[string, CompiledPolicy[], L4Connection, boolean]> = [
    ['no policy: allowed', [], frontend, true],
    ['an ALLOW that matches', [allow([[[{ principals: [exact('cluster.local/ns/front/sa/web')] }]]])], frontend, true],
    ['a principal prefix (Istio\'s "cluster.local/ns/front/*")', [allow([[[{ principals: [prefix('cluster.local/ns/front/')] }]]])], frontend, true],
    ['principals are written without spiffe://; with it they never match', [allow([[[{ principals: [exact('spiffe://cluster.local/ns/front/sa/web')] }]]])], frontend, false],
    ['ALLOW present, none matching: denied', [allow([[[{ principals: [exact('cluster.local/ns/other/sa/x')] }]]])], frontend, false],
    ['DENY wins over a matching ALLOW', [allow([[[{ namespaces: [exact('front')] }]]]), deny([[[{ principals: [suffix('/sa/web')] }]]])], frontend, false],
    ['a DENY that does not match leaves the ALLOW in force', [allow([[[{ namespaces: [exact('front')] }]]]), deny([[[{ namespaces: [exact('evil')] }]]])], frontend, true],
    ['STRICT (DENY not_principals presence) refuses plain text', [strict()], plain, false],
    ['STRICT lets an identity through', [strict()], frontend, true],
    ['namespaces: "*" (presence) never matches plain text (no identity)', [allow([[[{ namespaces: [presence()] }]]])], plain, false],
    ['not_namespaces: everyone but front', [allow([[[{ notNamespaces: [exact('front')] }]]])], frontend, false],
    ['not_namespaces lets plain text through (its namespace is empty)', [allow([[[{ notNamespaces: [exact('front')] }]]])], plain, true],
    ['ipBlocks: the source in the CIDR', [allow([[[{ sourceIps: [cidr('10.1.0.0', 24)] }]]])], plain, true],
    ['ipBlocks: outside the CIDR', [allow([[[{ sourceIps: [cidr('10.2.0.0', 16)] }]]])], plain, false],
    ['not_source_ips: the source excluded', [allow([[[{ notSourceIps: [cidr('10.1.0.6', 32)] }]]])], plain, false],
    ['destination ports: matching port', [allow([[[{ destinationPorts: [8080] }]]])], frontend, true],
    ['destination ports: another port', [allow([[[{ destinationPorts: [9090] }]]])], frontend, false],
    ['not_destination_ports: DENY plain text except on 8080', [deny([[[{ notPrincipals: [presence()] }], [{ notDestinationPorts: [8080] }]]])], plain, true],
    ['not_destination_ports: the same DENY on 9090', [deny([[[{ notPrincipals: [presence()] }], [{ notDestinationPorts: [8080] }]]])], { ...plain, destinationPort: 9090 }, false],
    ['service accounts', [allow([[[{ serviceAccounts: [create(ServiceAccountMatchSchema, { namespace: 'front', serviceAccount: 'web' })] }]]])], frontend, true],
    ['not_service_accounts', [allow([[[{ notServiceAccounts: [create(ServiceAccountMatchSchema, { namespace: 'front', serviceAccount: 'web' })] }]]])], frontend, false],
    ['clauses are ANDed: from matches, to does not', [allow([[[{ namespaces: [exact('front')] }], [{ destinationPorts: [9090] }]]])], frontend, false],
    ['matches in a clause are ORed', [allow([[[{ namespaces: [exact('x')] }, { destinationPorts: [8080] }]]])], frontend, true],
    ['fields in one match are ANDed', [allow([[[{ namespaces: [exact('front')], destinationPorts: [9090] }]]])], frontend, false],
    ['a rule with no clauses matches everything (ALLOW {})', [allow([[]])], plain, true],
    ['a policy with no rules matches nothing: ALLOW-nothing denies', [allow([])], frontend, false],
    ['an empty match is skipped: its clause fails', [allow([[[{}]]])], frontend, false],
    ['a dry-run DENY is not enforced', [deny([[[{ namespaces: [exact('front')] }]]], { dryRun: true })], frontend, true],
  ];
  for (const [name, policies, conn, allowed] of rows) {
    it(name, () => assert.equal(authorize(policies, conn).allow, allowed, JSON.stringify(authorize(policies, conn))));
  }

  it('names the policy that denied, and why nothing allowed', () => {
    const d = deny([[[{ namespaces: [exact('front')] }]]]);
    assert.deepEqual(authorize([d], frontend), { allow: false, policy: d.key, reason: `denied by DENY policy ${d.key}` });
    const a = allow([[[{ namespaces: [exact('x')] }]]]);
    assert.match((authorize([a], frontend) as { reason: string }).reason, /no ALLOW policy matched \(shop\/allow-/);
  });

  it('scopes: global everywhere, namespace in its namespace, selector only where the workload names it', () => {
    const g = policy('g', Action.DENY, [], { scope: Scope.GLOBAL, namespace: 'istio-system' });
    const n = policy('n', Action.DENY, [], { scope: Scope.NAMESPACE });
    const s = policy('s', Action.DENY, [], { scope: Scope.WORKLOAD_SELECTOR });
    const keys = (ns: string, named: string[]) => applicable([g, n, s], { namespace: ns, policies: named }).map((p) => p.key);
    assert.deepEqual(keys('shop', []), ['istio-system/g', 'shop/n']);
    assert.deepEqual(keys('other', ['shop/s']), ['istio-system/g', 'shop/s']);
  });

  it('an invalid address or prefix length is an error with its field path', () => {
    const bad = create(AuthorizationSchema, { name: 'p', namespace: 'shop', rules: [create(RuleSchema, { clauses: [create(ClauseSchema, { matches: [create(MatchSchema, {
      sourceIps: [create(AddressSchema, { address: new Uint8Array([1, 2, 3]), length: 8 })], destinationIps: [cidr('10.0.0.0', 33)],
    })] })] })] });
    assert.deepEqual(compilePolicy(bad), { ok: false, errors: [
      'rules[0].clauses[0].matches[0].sourceIps[0].address: 3 bytes is not an IPv4 or IPv6 address',
      'rules[0].clauses[0].matches[0].destinationIps[0].length: 33 is longer than the address (32 bits)',
    ] });
  });
});
