/**
 * The DestinationRule subsets that exist, by host. Deliberately generous, as
 * istioctl analyze is: a subset counts when any DestinationRule, in any
 * namespace, defines it for the host or for a wildcard covering the host. A
 * finding must mean "this subset exists nowhere", never a guess about which
 * rule a particular proxy ends up with.
 */
import type { DestinationRule } from '../../config/objects.js';
import { resolveHost } from '../registry/policies.js';
import { hostMatches } from '../registry/visibility.js';

export class RuleSubsets {
  readonly #exact = new Map<string, Set<string>>();
  readonly #wildcards: { host: string; subsets: Set<string> }[] = [];

  constructor(rules: Iterable<DestinationRule>, domainSuffix: string) {
    for (const dr of rules) {
      const names = (dr.spec.subsets ?? []).map((s) => s.name);
      if (names.length === 0) continue;
      const host = resolveHost(dr.spec.host, dr.metadata.namespace ?? 'default', domainSuffix);
      if (host.includes('*')) {
        this.#wildcards.push({ host, subsets: new Set(names) });
        continue;
      }
      let set = this.#exact.get(host);
      if (set === undefined) this.#exact.set(host, (set = new Set()));
      for (const n of names) set.add(n);
    }
  }

  /** Does some DestinationRule define `subset` for `fqdn` (a resolved destination host)? */
  has(fqdn: string, subset: string): boolean {
    if (this.#exact.get(fqdn)?.has(subset)) return true;
    return this.#wildcards.some((w) => w.subsets.has(subset) && hostMatches(w.host, fqdn));
  }
}
