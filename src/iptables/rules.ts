/**
 * The rule model: an ordered list of rules per address family, each bound to
 * a table and chain. Mirrors Istio's IptablesRuleBuilder (AppendRule,
 * AppendVersionedRule, InsertRule) so that capture.ts reads like Istio's
 * run.go and the output can be compared rule for rule with its goldens.
 */

export type Family = 'v4' | 'v6';
export type Table = 'mangle' | 'nat' | 'raw';

/** Tables in the order they are written (and in which Istio writes them). */
export const TABLES: readonly Table[] = ['mangle', 'nat', 'raw'];

export const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** Our chains: Istio's ISTIO_* under the TRELLIS_ prefix. */
export const CHAIN = {
  inbound: 'TRELLIS_INBOUND',
  inRedirect: 'TRELLIS_IN_REDIRECT',
  output: 'TRELLIS_OUTPUT',
  redirect: 'TRELLIS_REDIRECT',
  outputDns: 'TRELLIS_OUTPUT_DNS',
  divert: 'TRELLIS_DIVERT',
  tproxy: 'TRELLIS_TPROXY',
  drop: 'TRELLIS_DROP',
  /** Ambient in-pod redirection (Istio's CNI: ISTIO_PRERT, and ISTIO_POSTRT in the node's namespace). */
  prerouting: 'TRELLIS_PRERT',
  postrouting: 'TRELLIS_POSTRT',
} as const;

export const CHAIN_PREFIX = 'TRELLIS_';

/**
 * Every rule written into a built-in chain carries this comment, so that
 * apply and cleanup can find exactly ours among other people's rules (rules
 * in TRELLIS_* chains are ours by the chain's name).
 */
export const OWNER_COMMENT = 'trellis';

export interface Rule {
  table: Table;
  chain: string;
  /** Append, or insert at `position` (1-based) like `iptables -I`. */
  op: 'A' | 'I';
  position?: number;
  /** Match and target arguments, already tokenised. */
  args: string[];
}

/** Placeholder in versioned rules, replaced by the family's value. */
export const IP_VERSION_SPECIFIC = '\u0000ip';

export class RuleBuilder {
  readonly v4: Rule[] = [];
  readonly v6: Rule[] = [];

  append(chain: string, table: Table, ...args: string[]): void {
    this.appendV4(chain, table, ...args);
    this.appendV6(chain, table, ...args);
  }

  appendV4(chain: string, table: Table, ...args: string[]): void {
    this.v4.push({ table, chain, op: 'A', args });
  }

  appendV6(chain: string, table: Table, ...args: string[]): void {
    this.v6.push({ table, chain, op: 'A', args });
  }

  /** Append with IP_VERSION_SPECIFIC replaced by `v4` or `v6`. */
  appendVersioned(v4: string, v6: string, chain: string, table: Table, ...args: string[]): void {
    this.appendV4(chain, table, ...args.map((a) => (a === IP_VERSION_SPECIFIC ? v4 : a)));
    this.appendV6(chain, table, ...args.map((a) => (a === IP_VERSION_SPECIFIC ? v6 : a)));
  }

  insert(chain: string, table: Table, position: number, ...args: string[]): void {
    this.insertV4(chain, table, position, ...args);
    this.insertV6(chain, table, position, ...args);
  }

  insertV4(chain: string, table: Table, position: number, ...args: string[]): void {
    this.v4.push({ table, chain, op: 'I', position, args });
  }

  insertV6(chain: string, table: Table, position: number, ...args: string[]): void {
    this.v6.push({ table, chain, op: 'I', position, args });
  }
}

/**
 * The custom chains a rule list uses: those holding rules in order of first
 * appearance, then those only jumped to (an ambient ingress pod jumps to an
 * empty TRELLIS_PRERT in nat, as Istio's CNI does).
 */
export function chainsOf(rules: readonly Rule[], table: Table): string[] {
  const seen = new Set<string>();
  for (const r of rules) {
    if (r.table !== table) continue;
    if (!BUILTIN_CHAINS.has(r.chain)) seen.add(r.chain);
  }
  // Chains only jumped to come last, so that rule sets without them render exactly as before.
  for (const r of rules) {
    const target = r.table === table ? jumpTarget(r.args) : undefined;
    if (target !== undefined) seen.add(target);
  }
  return [...seen];
}

/** The chain a rule jumps to, if it is one of ours. */
export function jumpTarget(args: readonly string[]): string | undefined {
  const i = args.indexOf('-j');
  const target = i >= 0 ? args[i + 1] : undefined;
  return target?.startsWith(CHAIN_PREFIX) ? target : undefined;
}

/**
 * Drops jumps to chains that would stay empty (e.g. the IPv6 DNS chain when
 * only IPv4 DNS servers are known): a jump to an empty chain does nothing but
 * leaves a chain behind, and Istio's output has neither.
 */
export function pruneEmptyChains(rules: readonly Rule[]): Rule[] {
  const filled = new Set(rules.map((r) => `${r.table}/${r.chain}`));
  return rules.filter((r) => {
    const target = jumpTarget(r.args);
    return target === undefined || filled.has(`${r.table}/${target}`);
  });
}
