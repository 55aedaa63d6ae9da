/**
 * Parsing iptables-save / iptables-restore text: used to find what a previous
 * run left behind, and by tests to compare rule sets by meaning.
 */
import { BUILTIN_CHAINS, CHAIN_PREFIX, OWNER_COMMENT, type Table } from './rules.js';
import type { StaleState } from './render.js';

export interface ParsedRule {
  chain: string;
  op: 'A' | 'I';
  position?: number;
  args: string[];
  /** The line as read. */
  line: string;
}

export interface ParsedTable {
  table: string;
  /** Declared chains (`:X POLICY [..]` or `-N X`), built-in ones included. */
  chains: string[];
  rules: ParsedRule[];
}

/** Splits on blanks, keeping "double quoted" words (iptables-save quotes comments). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1] : (m[2] as string));
  return out;
}

/** Parses the tables of an iptables-save or iptables-restore text, in order. */
export function parseTables(text: string): ParsedTable[] {
  const tables: ParsedTable[] = [];
  let cur: ParsedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      cur = { table: line.slice(1).trim(), chains: [], rules: [] };
      tables.push(cur);
    } else if (!cur || line === '' || line.startsWith('#')) {
      continue;
    } else if (line === 'COMMIT') {
      cur = undefined;
    } else if (line.startsWith(':')) {
      cur.chains.push(line.slice(1).split(/\s+/)[0] as string);
    } else {
      parseRuleLine(cur, line);
    }
  }
  return tables;
}

function parseRuleLine(t: ParsedTable, line: string): void {
  const tok = tokenize(line);
  const [op, chain] = tok;
  if (chain === undefined) return;
  if (op === '-N') t.chains.push(chain);
  else if (op === '-A') t.rules.push({ chain, op: 'A', args: tok.slice(2), line });
  else if (op === '-I') {
    const pos = Number(tok[2]);
    const hasPos = Number.isInteger(pos) && tok[2] !== undefined;
    t.rules.push({ chain, op: 'I', position: hasPos ? pos : 1, args: tok.slice(hasPos ? 3 : 2), line });
  }
}

function isOurs(rule: ParsedRule): boolean {
  const c = rule.args.indexOf('--comment');
  if (c >= 0 && rule.args[c + 1] === OWNER_COMMENT) return true;
  const j = rule.args.indexOf('-j');
  return j >= 0 && (rule.args[j + 1] ?? '').startsWith(CHAIN_PREFIX);
}

/** What of ours an iptables-save output holds: TRELLIS_* chains, and our rules in built-in chains. */
export function findStale(saveText: string): StaleState {
  const stale: StaleState = {};
  for (const t of parseTables(saveText)) {
    if (!['mangle', 'nat', 'raw'].includes(t.table)) continue;
    const chains = t.chains.filter((c) => c.startsWith(CHAIN_PREFIX));
    const builtinRules = t.rules.filter((r) => BUILTIN_CHAINS.has(r.chain) && isOurs(r)).map((r) => r.line);
    if (chains.length > 0 || builtinRules.length > 0) stale[t.table as Table] = { chains, builtinRules };
  }
  return stale;
}

/** Only our part of an iptables-save output (our chains and our built-in-chain rules), for comparisons. */
export function ourRules(saveText: string): string[] {
  const out: string[] = [];
  for (const t of parseTables(saveText)) {
    for (const c of t.chains.filter((c) => c.startsWith(CHAIN_PREFIX))) out.push(`${t.table} :${c}`);
    for (const r of t.rules) {
      if (r.chain.startsWith(CHAIN_PREFIX) || (BUILTIN_CHAINS.has(r.chain) && isOurs(r))) out.push(`${t.table} ${r.line}`);
    }
  }
  return out;
}
