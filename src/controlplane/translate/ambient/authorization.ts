/**
 * AuthorizationPolicy → istio.security.Authorization, the L4 policy a node
 * proxy enforces, with istiod's shapes: one Rule per policy rule, a Clause
 * for its `to`, one for its `from` and one per `when`, one Match per
 * operation / source. What L4 cannot see (hosts, methods, paths, request
 * principals, remote IPs, other `when` keys) is left out so that the result
 * is never looser than the policy: an ALLOW rule using any of it is dropped
 * (it allows less), a DENY rule loses the constraint, so it matches more
 * (it denies more; istiod leaves an empty match there that ztunnel skips,
 * which makes such a DENY rule match nothing). `l7` names what was left out.
 */
import { create } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import type { AuthorizationOperation, AuthorizationPolicy, AuthorizationRule, AuthorizationSource } from '../../../config/objects.js';
import {
  Action,
  AddressSchema,
  AuthorizationSchema,
  ClauseSchema,
  MatchSchema,
  RuleSchema,
  Scope,
  ServiceAccountMatchSchema,
  StringMatchSchema,
  type Address,
  type Authorization,
  type Match,
  type Rule,
  type ServiceAccountMatch,
  type StringMatch,
} from '../../../gen/workloadapi/security/authorization_pb.js';
import { isDryRun } from '../authz/builder.js';
import { cidrBytes } from './ip-bytes.js';

export interface ConvertedPolicy {
  authorization: Authorization;
  /** Fields and `when` keys left out (sorted); empty when the policy converted whole. */
  l7: readonly string[];
}

export function authorizationName(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

const l7Operation = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;
const l7Source = ['requestPrincipals', 'notRequestPrincipals', 'remoteIpBlocks', 'notRemoteIpBlocks', 'trustDomains', 'notTrustDomains'] as const;
const l4When = new Set(['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port']);

/**
 * Undefined for what a node proxy does not enforce: policies with
 * targetRef(s) (for waypoints and gateways) and AUDIT (no allow or deny).
 * CUSTOM is enforced as DENY, as Trellis' sidecars do (no extension
 * providers: what its rules match is denied; the analysis says so).
 */
export function convertPolicy(p: AuthorizationPolicy, rootNamespace: string): ConvertedPolicy | undefined {
  const spec = p.spec ?? {};
  if (spec.targetRef || (spec.targetRefs?.length ?? 0) > 0 || spec.action === 'AUDIT') return undefined;
  const namespace = p.metadata.namespace ?? 'default';
  const deny = spec.action === 'DENY' || spec.action === 'CUSTOM';
  const scope = spec.selector ? Scope.WORKLOAD_SELECTOR : namespace === rootNamespace ? Scope.GLOBAL : Scope.NAMESPACE;
  const l7 = new Set<string>();
  const rules: Rule[] = [];
  for (const rule of spec.rules ?? []) {
    const r = convertRule(rule, namespace, deny, l7);
    if (r) rules.push(r);
  }
  const authorization = create(AuthorizationSchema, {
    name: p.metadata.name,
    namespace,
    scope,
    action: deny ? Action.DENY : Action.ALLOW,
    rules,
    dryRun: isDryRun(p),
  });
  return { authorization, l7: [...l7].sort() };
}

/** A Match, and whether L7 fields were left out of it. */
interface Part {
  match: Match;
  lostL7: boolean;
}

/** Undefined: an ALLOW rule that needs L7 (dropped). */
function convertRule(rule: AuthorizationRule, namespace: string, deny: boolean, l7: Set<string>): Rule | undefined {
  const found = new Set<string>();
  const clauses: Part[][] = [];
  if (rule.to?.length) clauses.push(rule.to.map((t) => operationMatch(t.operation ?? {}, found)));
  if (rule.from?.length) clauses.push(rule.from.map((f) => sourceMatch(f.source ?? {}, namespace, found)));
  for (const w of rule.when ?? []) {
    const lostL7 = !l4When.has(w.key);
    if (lostL7) found.add(w.key);
    clauses.push([{ match: whenMatch(w.key, w.values ?? [], w.notValues ?? []), lostL7 }]);
  }
  for (const f of found) l7.add(f);
  if (found.size > 0 && !deny) return undefined;
  // In a DENY, a match emptied by leaving L7 out stands for "any connection": so does its clause (matches are OR-ed).
  const kept = clauses.filter((parts) => !parts.some((p) => p.lostL7 && isEmpty(p.match)));
  return create(RuleSchema, { clauses: kept.map((parts) => create(ClauseSchema, { matches: parts.map((p) => p.match) })) });
}

function isEmpty(m: Match): boolean {
  return m.namespaces.length + m.notNamespaces.length + m.serviceAccounts.length + m.notServiceAccounts.length +
    m.principals.length + m.notPrincipals.length + m.sourceIps.length + m.notSourceIps.length +
    m.destinationIps.length + m.notDestinationIps.length + m.destinationPorts.length + m.notDestinationPorts.length === 0;
}

/** Records the L7 fields present in `found`; true when there was any. */
function noteL7<T>(o: T, fields: readonly (keyof T & string)[], found: Set<string>): boolean {
  let any = false;
  for (const f of fields) {
    if ((o[f] as unknown[] | undefined)?.length) {
      found.add(f);
      any = true;
    }
  }
  return any;
}

function operationMatch(op: AuthorizationOperation, found: Set<string>): Part {
  const lostL7 = noteL7(op, l7Operation, found);
  return { lostL7, match: create(MatchSchema, { destinationPorts: ports(op.ports), notDestinationPorts: ports(op.notPorts) }) };
}

function sourceMatch(src: AuthorizationSource, namespace: string, found: Set<string>): Part {
  const lostL7 = noteL7(src, l7Source, found);
  return { lostL7, match: create(MatchSchema, {
    sourceIps: addresses(src.ipBlocks),
    notSourceIps: addresses(src.notIpBlocks),
    namespaces: strings(src.namespaces),
    notNamespaces: strings(src.notNamespaces),
    serviceAccounts: serviceAccounts(src.serviceAccounts, namespace),
    notServiceAccounts: serviceAccounts(src.notServiceAccounts, namespace),
    principals: strings(src.principals),
    notPrincipals: strings(src.notPrincipals),
  }) };
}

function whenMatch(key: string, values: string[], notValues: string[]): Match {
  switch (key) {
    case 'source.ip': return create(MatchSchema, { sourceIps: addresses(values), notSourceIps: addresses(notValues) });
    case 'source.namespace': return create(MatchSchema, { namespaces: strings(values), notNamespaces: strings(notValues) });
    case 'source.principal': return create(MatchSchema, { principals: strings(values), notPrincipals: strings(notValues) });
    case 'destination.ip': return create(MatchSchema, { destinationIps: addresses(values), notDestinationIps: addresses(notValues) });
    case 'destination.port': return create(MatchSchema, { destinationPorts: ports(values), notDestinationPorts: ports(notValues) });
    default: return create(MatchSchema);
  }
}

/** Istio's wildcards: "*" any value, "x*" a prefix, "*x" a suffix, else exact. */
function strings(values: readonly string[] | undefined): StringMatch[] {
  return (values ?? []).map((v) => {
    const matchType =
      v === '*' ? { case: 'presence' as const, value: create(EmptySchema) }
      : v.startsWith('*') ? { case: 'suffix' as const, value: v.slice(1) }
      : v.endsWith('*') ? { case: 'prefix' as const, value: v.slice(0, -1) }
      : { case: 'exact' as const, value: v };
    return create(StringMatchSchema, { matchType });
  });
}

/** "ns/sa", or "sa" in the policy's namespace. */
function serviceAccounts(values: readonly string[] | undefined, namespace: string): ServiceAccountMatch[] {
  return (values ?? []).map((v) => {
    const slash = v.indexOf('/');
    return create(ServiceAccountMatchSchema, slash < 0 ? { namespace, serviceAccount: v } : { namespace: v.slice(0, slash), serviceAccount: v.slice(slash + 1) });
  });
}

function ports(values: readonly string[] | undefined): number[] {
  return (values ?? []).filter((v) => /^\d{1,5}$/.test(v) && Number(v) <= 65535).map(Number);
}

function addresses(values: readonly string[] | undefined): Address[] {
  const out: Address[] = [];
  for (const v of values ?? []) {
    const c = cidrBytes(v);
    if (c) out.push(create(AddressSchema, c));
  }
  return out;
}
