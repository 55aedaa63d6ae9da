/**
 * L4 authorization as ztunnel decides it (src/state.rs assert_rbac and
 * src/rbac.rs), pure: the policies that apply to the destination workload
 * are the global ones, those of its namespace and those it names; dry-run
 * ones are only reported. Any matching DENY denies; then, when there are
 * ALLOW policies, one of them must match; with none, the connection is
 * allowed. Plain text has no identity: principals, namespaces and service
 * accounts never match it, while their not_ variants do (that is how the
 * STRICT policy, DENY not_principals presence, refuses it).
 */
import type { BlockList } from 'node:net';
import { isIPv4 } from 'node:net';
import type { CompiledMatch, CompiledPolicy, StringTest } from './compiled-policy.js';

export interface PeerIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** One connection as policy sees it. */
export interface L4Connection {
  sourceIp: string;
  destinationIp: string;
  destinationPort: number;
  /** The authenticated peer (HBONE's client certificate); absent for plain text. */
  identity?: PeerIdentity;
}

/** Who the policies are for: the destination workload. */
export interface PolicyTarget {
  namespace: string;
  /** Its authorization_policies (NAMESPACE/NAME). */
  policies: readonly string[];
}

export type Verdict = { allow: true; policy?: string } | { allow: false; policy?: string; reason: string };

/** The policies that apply to `target`, as ztunnel selects them. */
export function applicable(all: Iterable<CompiledPolicy>, target: PolicyTarget): CompiledPolicy[] {
  const named = new Set(target.policies);
  // GLOBAL is what the control plane made of a root-namespace policy: it applies everywhere (ztunnel files it under no namespace).
  return [...all].filter((p) => p.scope === 'global'
    || (p.scope === 'namespace' && p.namespace === target.namespace)
    || named.has(p.key));
}

export function authorize(policies: readonly CompiledPolicy[], conn: L4Connection): Verdict {
  const live = policies.filter((p) => !p.dryRun);
  const deny = live.find((p) => p.action === 'deny' && policyMatches(p, conn));
  if (deny) return { allow: false, policy: deny.key, reason: `denied by DENY policy ${deny.key}` };
  const allows = live.filter((p) => p.action === 'allow');
  if (allows.length === 0) return { allow: true };
  const allow = allows.find((p) => policyMatches(p, conn));
  if (allow) return { allow: true, policy: allow.key };
  return { allow: false, reason: `no ALLOW policy matched (${allows.map((p) => p.key).join(', ')})` };
}

export function policyMatches(p: CompiledPolicy, conn: L4Connection): boolean {
  // A rule holds when all its clauses do; a clause when any of its non-empty matches does, or it has none.
  return p.rules.some((rule) => rule.every((clause) => clause.length === 0 || clause.some((m) => !m.empty && matchHolds(m, conn))));
}

function field<T>(pos: readonly T[], neg: readonly T[], test: (v: T) => boolean): boolean {
  return (pos.length === 0 || pos.some(test)) && (neg.length === 0 || !neg.some(test));
}

function inBlocks(pos: BlockList | undefined, neg: BlockList | undefined, ip: string): boolean {
  const type = isIPv4(ip) ? 'ipv4' : 'ipv6';
  return (!pos || pos.check(ip, type)) && (!neg || !neg.check(ip, type));
}

function matchHolds(m: CompiledMatch, c: L4Connection): boolean {
  const id = c.identity;
  // Istio's principals omit "spiffe://": "cluster.local/ns/NS/sa/SA". No identity is the empty string, which only presence tells apart.
  const principal = id ? `${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}` : undefined;
  const namespace = id?.namespace ?? '';
  return inBlocks(m.destinationIps, m.notDestinationIps, c.destinationIp)
    && inBlocks(m.sourceIps, m.notSourceIps, c.sourceIp)
    && field(m.destinationPorts, m.notDestinationPorts, (p) => p === c.destinationPort)
    && field(m.serviceAccounts, m.notServiceAccounts, (s) => id !== undefined && s.namespace === id.namespace && s.serviceAccount === id.serviceAccount)
    && field(m.principals, m.notPrincipals, (t: StringTest) => principal !== undefined && t(principal))
    && field(m.namespaces, m.notNamespaces, (t: StringTest) => t(namespace));
}
