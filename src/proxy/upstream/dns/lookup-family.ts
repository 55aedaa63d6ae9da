/**
 * Envoy's dns_lookup_family over two queries (A, AAAA), as its c-ares
 * resolver runs them: V4_ONLY and V6_ONLY ask one; AUTO asks AAAA and falls
 * back to A when that yields nothing, V4_PREFERRED the other way round; ALL
 * asks both at once and keeps every answer (IPv4 first). A resolution
 * succeeds when some query succeeded (even with no addresses); when every
 * query failed it fails with the last error. The queries are injected, so
 * this is pure and tested without a DNS server.
 */
import type { LookupFamily } from './dns-plan.js';

export interface Answer {
  address: string;
  /** Seconds the record may be cached. */
  ttl: number;
}

export type Query = (record: 'A' | 'AAAA') => Promise<Answer[]>;

type Outcome = { ok: true; answers: Answer[] } | { ok: false; error: unknown };

const run = (q: Query, record: 'A' | 'AAAA'): Promise<Outcome> =>
  q(record).then((answers) => ({ ok: true as const, answers }), (error: unknown) => ({ ok: false as const, error }));

export async function lookup(family: LookupFamily, query: Query): Promise<Answer[]> {
  switch (family) {
    case 'V4_ONLY': return settle([await run(query, 'A')]);
    case 'V6_ONLY': return settle([await run(query, 'AAAA')]);
    case 'AUTO': return preferring(query, 'AAAA', 'A');
    case 'V4_PREFERRED': return preferring(query, 'A', 'AAAA');
    case 'ALL': return settle(await Promise.all([run(query, 'A'), run(query, 'AAAA')]));
  }
}

async function preferring(query: Query, first: 'A' | 'AAAA', second: 'A' | 'AAAA'): Promise<Answer[]> {
  const a = await run(query, first);
  if (a.ok && a.answers.length > 0) return a.answers;
  return settle([a, await run(query, second)]);
}

function settle(outcomes: Outcome[]): Answer[] {
  const ok = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
  if (ok.length === 0) throw (outcomes[outcomes.length - 1] as Extract<Outcome, { ok: false }>).error;
  return ok.flatMap((o) => o.answers);
}

/** An IP literal needs no query: it is its own answer (TTL 0) when the family allows its version. */
export function literalAnswer(family: LookupFamily, address: string, version: 0 | 4 | 6): Answer[] | 'mismatch' | undefined {
  if (version === 0) return undefined;
  if ((version === 4 && family === 'V6_ONLY') || (version === 6 && family === 'V4_ONLY')) return 'mismatch';
  return [{ address, ttl: 0 }];
}
