/**
 * Rules → iptables-restore input. The same text serves --dry-run and apply;
 * apply adds the removal of what a previous run left (see apply.ts), so that
 * one restore both removes the old rules and writes the new ones.
 */
import { BUILTIN_CHAINS, OWNER_COMMENT, TABLES, chainsOf, type Rule, type Table } from './rules.js';

/** What a previous run left in one table: our chains, and our rules in built-in chains (as saved). */
export interface StaleTable {
  chains: string[];
  /** Lines from iptables-save, e.g. `-A OUTPUT -m comment --comment trellis -j TRELLIS_OUTPUT`. */
  builtinRules: string[];
}

export type StaleState = Partial<Record<Table, StaleTable>>;

/** One rule as a restore line; rules in built-in chains carry the owner comment. */
export function ruleLine(r: Rule): string {
  const head = r.op === 'A' ? ['-A', r.chain] : ['-I', r.chain, String(r.position ?? 1)];
  const mark = BUILTIN_CHAINS.has(r.chain) ? ['-m', 'comment', '--comment', OWNER_COMMENT] : [];
  return [...head, ...mark, ...r.args].join(' ');
}

/**
 * The restore input for one family. With `stale`, each table first flushes
 * (by declaring) every chain of ours, deletes our built-in-chain rules and
 * drops chains no longer used — all inside the same COMMIT, so a reader of
 * the ruleset sees either the old rules or the new ones.
 */
export function renderRestore(rules: readonly Rule[], stale: StaleState = {}): string {
  const out: string[] = [];
  for (const table of TABLES) {
    const chains = chainsOf(rules, table);
    const old = stale[table] ?? { chains: [], builtinRules: [] };
    const tableRules = rules.filter((r) => r.table === table);
    if (tableRules.length === 0 && old.chains.length === 0 && old.builtinRules.length === 0) continue;
    out.push(`*${table}`);
    const declared = [...chains, ...old.chains.filter((c) => !chains.includes(c))];
    for (const c of declared) out.push(`:${c} - [0:0]`);
    for (const line of old.builtinRules) out.push(line.replace(/^-A /, '-D '));
    for (const c of old.chains) if (!chains.includes(c)) out.push(`-X ${c}`);
    for (const r of tableRules) out.push(ruleLine(r));
    out.push('COMMIT');
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}
