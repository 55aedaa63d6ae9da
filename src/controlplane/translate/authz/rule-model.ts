/**
 * One AuthorizationPolicy rule as Envoy RBAC (istiod's
 * security/authz/model/model.go): every `when` condition is folded into the
 * permission side (what is asked for) or the principal side (who asks); each
 * `to` becomes one permission and each `from` one principal, AND-ing their
 * fields with the conditions; the rule matches when any permission and any
 * principal match.
 */
import { create } from '@bufbuild/protobuf';
import type { AuthorizationRule } from '../../../config/objects.js';
import { PolicySchema, RBAC_Action, type Permission, type Policy, type Principal } from '../../../gen/envoy/config/rbac/v3/rbac_pb.js';
import * as g from './generators.js';
import { permissionAnd, permissionAny, permissionNot, permissionOr, principalAnd, principalAny, principalNot, principalOr } from './rbac-nodes.js';
import { expandTrustDomainAliases, replaceTrustDomainAliases } from './trust-domain.js';

interface Entry<N> {
  key: string;
  values: readonly string[];
  notValues: readonly string[];
  gen: g.Generator<N>;
}

export interface RuleModel {
  /** One list per `to` (or one without `to`), each entry AND-ed. */
  permissions: Entry<Permission>[][];
  /** One list per `from` (or one without `from`). */
  principals: Entry<Principal>[][];
}

type Side = { side: 'permission'; gen: g.Generator<Permission> } | { side: 'principal'; gen: g.Generator<Principal> };

/** Where each `when` key goes; undefined for a key Istio does not know. */
function conditionGenerator(key: string, policyNamespace: string): Side | undefined {
  const perm = (gen: g.Generator<Permission>): Side => ({ side: 'permission', gen });
  const prin = (gen: g.Generator<Principal>): Side => ({ side: 'principal', gen });
  switch (key) {
    case 'destination.ip': return perm(g.destIp);
    case 'destination.port': return perm(g.destPort);
    case 'connection.sni': return perm(g.connSni);
    case 'source.ip': return prin(g.srcIp);
    case 'remote.ip': return prin(g.remoteIp);
    case 'source.namespace': return prin(g.srcNamespace);
    case 'source.trustDomain': return prin(g.srcTrustDomain);
    case 'source.serviceAccount': return prin(g.serviceAccountGenerator(policyNamespace));
    case 'source.principal': return prin(g.srcPrincipal);
    case 'request.auth.principal': return prin(g.requestPrincipal);
    case 'request.auth.audiences': return prin(g.requestAudiences);
    case 'request.auth.presenter': return prin(g.requestPresenter);
  }
  if (key.startsWith('experimental.envoy.filters.')) return perm(g.envoyFilter);
  if (key.startsWith('request.headers')) return prin(g.requestHeader);
  if (key.startsWith('request.auth.claims')) return prin(g.requestClaims);
  return undefined;
}

function entry<N>(key: string, values: readonly string[] | undefined, notValues: readonly string[] | undefined, gen: g.Generator<N>): Entry<N>[] {
  return (values?.length ?? 0) + (notValues?.length ?? 0) === 0 ? [] : [{ key, values: values ?? [], notValues: notValues ?? [], gen }];
}

/**
 * The rule's model. `from` and `to` fields come first, in istiod's order,
 * then the conditions in the order written. Throws on an unknown `when` key
 * (validation refuses such a policy before it gets here).
 */
export function ruleModel(rule: AuthorizationRule, policyNamespace: string, trustDomains: readonly string[]): RuleModel {
  const basePerm: Entry<Permission>[] = [];
  const basePrin: Entry<Principal>[] = [];
  for (const w of rule.when ?? []) {
    const side = conditionGenerator(w.key, policyNamespace);
    if (!side) throw new Error(`unknown attribute ${w.key}`);
    if (side.side === 'permission') basePerm.push(...entry(w.key, w.values, w.notValues, side.gen));
    else basePrin.push(...entry(w.key, w.values, w.notValues, side.gen));
  }
  const principals = (rule.from ?? []).map(({ source: s }) => [
    ...entry('source.principal', s.principals, s.notPrincipals, g.srcPrincipal),
    ...entry('request.auth.principal', s.requestPrincipals, s.notRequestPrincipals, g.requestPrincipal),
    ...entry('source.serviceAccount', s.serviceAccounts, s.notServiceAccounts, g.serviceAccountGenerator(policyNamespace)),
    ...entry('source.trustDomain', s.trustDomains, s.notTrustDomains, g.srcTrustDomain),
    ...entry('source.namespace', s.namespaces, s.notNamespaces, g.srcNamespace),
    ...entry('remote.ip', s.remoteIpBlocks, s.notRemoteIpBlocks, g.remoteIp),
    ...entry('source.ip', s.ipBlocks, s.notIpBlocks, g.srcIp),
    ...basePrin,
  ]);
  const permissions = (rule.to ?? []).map(({ operation: o }) => [
    ...entry(':authority', o.hosts, o.notHosts, g.host),
    ...entry(':method', o.methods, o.notMethods, g.method),
    ...entry('path-matcher', o.paths, o.notPaths, g.path),
    ...entry('destination.port', o.ports, o.notPorts, g.destPort),
    ...basePerm,
  ]);
  const model = { permissions: permissions.length ? permissions : [basePerm], principals: principals.length ? principals : [basePrin] };
  return migrateTrustDomain(model, trustDomains);
}

/** Principals and trust domains written for "cluster.local" (or an alias) are matched for the mesh's trust domain. */
function migrateTrustDomain(m: RuleModel, trustDomains: readonly string[]): RuleModel {
  const principals = m.principals.map((list) => list.map((e) => {
    if (e.key === 'source.principal') return { ...e, values: replaceTrustDomainAliases(e.values, trustDomains), notValues: replaceTrustDomainAliases(e.notValues, trustDomains) };
    if (e.key === 'source.trustDomain') return { ...e, values: expandTrustDomainAliases(e.values, trustDomains), notValues: expandTrustDomainAliases(e.notValues, trustDomains) };
    return e;
  }));
  return { permissions: m.permissions, principals };
}

interface Ops<N> {
  and(ns: N[]): N;
  or(ns: N[]): N;
  not(n: N): N;
  any(): N;
}

const permissionOps: Ops<Permission> = { and: permissionAnd, or: permissionOr, not: permissionNot, any: permissionAny };
const principalOps: Ops<Principal> = { and: principalAnd, or: principalOr, not: principalNot, any: principalAny };

/**
 * A generator failure (an HTTP attribute on a TCP chain) drops the whole rule
 * for ALLOW — a smaller allow — but only that value for DENY and AUDIT — a
 * wider deny, so an HTTP-only DENY rule denies every TCP connection in its scope.
 */
function attempt<N>(action: RBAC_Action, f: () => N): N | undefined {
  try {
    return f();
  } catch (err) {
    if (action === RBAC_Action.ALLOW) throw err;
    return undefined;
  }
}

function entryNodes<N>(e: Entry<N>, forTCP: boolean, action: RBAC_Action, ops: Ops<N>): N[] {
  const out: N[] = [];
  const side = (values: readonly string[]): N | undefined => {
    if (values.length === 0) return undefined;
    const gen = e.gen;
    if (gen.extended) return attempt(action, () => gen.all(e.key, values, forTCP));
    const or = values.map((v) => attempt(action, () => gen.one(e.key, v, forTCP))).filter((n): n is N => n !== undefined);
    return or.length ? ops.or(or) : undefined;
  };
  const yes = side(e.values);
  if (yes !== undefined) out.push(yes);
  const no = side(e.notValues);
  if (no !== undefined) out.push(ops.not(no));
  return out;
}

function combine<N>(list: readonly Entry<N>[], forTCP: boolean, action: RBAC_Action, ops: Ops<N>): N {
  const and = list.flatMap((e) => entryNodes(e, forTCP, action, ops));
  return ops.and(and.length ? and : [ops.any()]);
}

/** The RBAC policy of a rule; throws when the rule cannot be expressed for this chain and action (see `attempt`). */
export function generatePolicy(m: RuleModel, forTCP: boolean, action: RBAC_Action): Policy {
  return create(PolicySchema, {
    permissions: m.permissions.map((l) => combine(l, forTCP, action, permissionOps)),
    principals: m.principals.map((l) => combine(l, forTCP, action, principalOps)),
  });
}
