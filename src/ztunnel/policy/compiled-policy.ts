/**
 * An Authorization of the workload API compiled for evaluation, as ztunnel
 * reads it (src/rbac.rs): rules → clauses → matches; within a match every
 * field that is set must hold (any value of a field, none of its not_
 * variant); a clause holds when any of its non-empty matches does (or it has
 * none); a rule when all its clauses do. Invalid addresses are errors with
 * their field path (the update is NACKed), never silently dropped.
 */
import { BlockList } from 'node:net';
import type { Authorization, Match, StringMatch } from '../../gen/workloadapi/security/authorization_pb.js';
import { Action, Scope } from '../../gen/workloadapi/security/authorization_pb.js';
import { ipFromBytes } from '../state/ip.js';

export type StringTest = (s: string) => boolean;

export interface CompiledMatch {
  namespaces: StringTest[];
  notNamespaces: StringTest[];
  serviceAccounts: { namespace: string; serviceAccount: string }[];
  notServiceAccounts: { namespace: string; serviceAccount: string }[];
  principals: StringTest[];
  notPrincipals: StringTest[];
  sourceIps?: BlockList;
  notSourceIps?: BlockList;
  destinationIps?: BlockList;
  notDestinationIps?: BlockList;
  destinationPorts: number[];
  notDestinationPorts: number[];
  /** No field set: skipped, as ztunnel skips it (it matches nothing). */
  empty: boolean;
}

export interface CompiledPolicy {
  /** NAMESPACE/NAME, as workloads name it in authorization_policies. */
  key: string;
  name: string;
  namespace: string;
  scope: 'global' | 'namespace' | 'workload';
  action: 'allow' | 'deny';
  dryRun: boolean;
  rules: CompiledMatch[][][];
  /** As received (for /config_dump). */
  raw: Authorization;
}

function stringTest(m: StringMatch): StringTest | undefined {
  switch (m.matchType.case) {
    case 'exact': { const v = m.matchType.value; return (s) => s === v; }
    case 'prefix': { const v = m.matchType.value; return (s) => s.startsWith(v); }
    case 'suffix': { const v = m.matchType.value; return (s) => s.endsWith(v); }
    case 'presence': return (s) => s !== '';
    default: return undefined;
  }
}

// As ztunnel: a StringMatch without a match type is left out, not an error.
const strings = (ms: StringMatch[]): StringTest[] => ms.map(stringTest).filter((t): t is StringTest => t !== undefined);

function blocks(addrs: Match['sourceIps'], path: string, errors: string[]): BlockList | undefined {
  if (addrs.length === 0) return undefined;
  const list = new BlockList();
  addrs.forEach((a, i) => {
    const ip = ipFromBytes(a.address);
    const bits = a.address.length * 8;
    if (ip === undefined) return void errors.push(`${path}[${i}].address: ${a.address.length} bytes is not an IPv4 or IPv6 address`);
    if (a.length > bits) return void errors.push(`${path}[${i}].length: ${a.length} is longer than the address (${bits} bits)`);
    list.addSubnet(ip, a.length, bits === 32 ? 'ipv4' : 'ipv6');
  });
  return list;
}

function compileMatch(m: Match, path: string, errors: string[]): CompiledMatch {
  const c: CompiledMatch = {
    namespaces: strings(m.namespaces),
    notNamespaces: strings(m.notNamespaces),
    serviceAccounts: m.serviceAccounts.map((s) => ({ namespace: s.namespace, serviceAccount: s.serviceAccount })),
    notServiceAccounts: m.notServiceAccounts.map((s) => ({ namespace: s.namespace, serviceAccount: s.serviceAccount })),
    principals: strings(m.principals),
    notPrincipals: strings(m.notPrincipals),
    sourceIps: blocks(m.sourceIps, `${path}.sourceIps`, errors),
    notSourceIps: blocks(m.notSourceIps, `${path}.notSourceIps`, errors),
    destinationIps: blocks(m.destinationIps, `${path}.destinationIps`, errors),
    notDestinationIps: blocks(m.notDestinationIps, `${path}.notDestinationIps`, errors),
    destinationPorts: [...m.destinationPorts],
    notDestinationPorts: [...m.notDestinationPorts],
    empty: false,
  };
  c.empty = c.namespaces.length + c.notNamespaces.length + c.serviceAccounts.length + c.notServiceAccounts.length + c.principals.length
    + c.notPrincipals.length + c.destinationPorts.length + c.notDestinationPorts.length === 0
    && !c.sourceIps && !c.notSourceIps && !c.destinationIps && !c.notDestinationIps;
  return c;
}

const SCOPES: Record<number, CompiledPolicy['scope']> = { [Scope.GLOBAL]: 'global', [Scope.NAMESPACE]: 'namespace', [Scope.WORKLOAD_SELECTOR]: 'workload' };

/** The policy, or every problem with its field path. */
export function compilePolicy(a: Authorization): { ok: true; value: CompiledPolicy } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  if (!a.name) errors.push('name: missing');
  const scope = SCOPES[a.scope];
  if (!scope) errors.push(`scope: unknown value ${a.scope}`);
  if (a.action !== Action.ALLOW && a.action !== Action.DENY) errors.push(`action: unknown value ${a.action}`);
  const rules = a.rules.map((r, i) => r.clauses.map((cl, j) => cl.matches.map((m, k) => compileMatch(m, `rules[${i}].clauses[${j}].matches[${k}]`, errors))));
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { key: `${a.namespace}/${a.name}`, name: a.name, namespace: a.namespace, scope: scope!, action: a.action === Action.DENY ? 'deny' : 'allow', dryRun: a.dryRun, rules, raw: a },
  };
}
