/** Reading Istio's istio-iptables goldens and normalising rule sets for comparison. */
import { readFileSync } from 'node:fs';
import { parseTables } from '../../../src/iptables/index.js';

export const GOLDEN_DIR = '/work/shared/conformance/istio-iptables';

const TABLE_ORDER = ['filter', 'mangle', 'nat', 'raw'];

/** family → table → normalised lines ("chains: ..." first, then rules in order). */
export type Normalised = Record<'v4' | 'v6', Record<string, string[]>>;

/**
 * Normalises restore text: ISTIO_ → TRELLIS_, our owner comment dropped,
 * chain declarations (`-N X` or `:X - [0:0]`) as one sorted set, rules in
 * order per table. Families: a golden lists the IPv4 tables, then the IPv6
 * ones; a table that does not come after the previous one starts IPv6.
 */
export function normaliseFamilies(texts: { v4: string; v6: string } | string): Normalised {
  const out: Normalised = { v4: {}, v6: {} };
  if (typeof texts !== 'string') {
    out.v4 = normaliseTables(texts.v4);
    out.v6 = normaliseTables(texts.v6);
    return out;
  }
  let fam: 'v4' | 'v6' = 'v4';
  let last = -1;
  for (const t of parseTables(texts)) {
    const idx = TABLE_ORDER.indexOf(t.table);
    if (idx <= last) fam = 'v6';
    last = idx;
    out[fam][t.table] = normaliseTable(t);
  }
  return out;
}

function normaliseTables(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of parseTables(text)) out[t.table] = normaliseTable(t);
  return out;
}

function normaliseTable(t: ReturnType<typeof parseTables>[number]): string[] {
  const rename = (s: string) => s.replace(/^ISTIO_/, 'TRELLIS_');
  const chains = t.chains.map(rename).sort();
  const rules = t.rules.map((r) => {
    const args = stripComment(r.args).map(rename);
    const head = r.op === 'A' ? `-A ${rename(r.chain)}` : `-I ${rename(r.chain)} ${r.position ?? 1}`;
    return [head, ...args].join(' ');
  });
  return [`chains: ${chains.join(' ')}`, ...rules];
}

function stripComment(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-m' && args[i + 1] === 'comment' && args[i + 2] === '--comment') {
      i += 3;
      continue;
    }
    out.push(args[i] as string);
  }
  return out;
}

export function readGolden(name: string, dir = GOLDEN_DIR): string {
  return readFileSync(`${dir}/${name}.golden`, 'utf8');
}
