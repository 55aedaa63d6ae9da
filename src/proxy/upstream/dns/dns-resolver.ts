/**
 * Asks DNS for a cluster's names with node:dns's c-ares Resolver (A and AAAA
 * with TTLs), against the servers the cluster names or the system's
 * (/etc/resolv.conf). One Resolver per cluster, so a cluster's servers never
 * leak into another's and stop() cancels only its own queries.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { TrellisError, errorMessage } from '../../../errors.js';
import type { DnsPlan } from './dns-plan.js';
import { literalAnswer, lookup, type Answer } from './lookup-family.js';

export class DnsResolver {
  readonly #resolver = new dns.Resolver();
  readonly #family: DnsPlan['family'];

  constructor(plan: Pick<DnsPlan, 'family' | 'servers' | 'serversAsFallback'>) {
    this.#family = plan.family;
    const useServers = plan.servers.length > 0 && !(plan.serversAsFallback && this.#resolver.getServers().length > 0);
    if (useServers) this.#resolver.setServers(plan.servers);
  }

  /** Every address of `name` for the lookup family; throws DNS_RESOLUTION_FAILED with the DNS error as cause. */
  async resolve(name: string): Promise<Answer[]> {
    const literal = literalAnswer(this.#family, name, isIP(name) as 0 | 4 | 6);
    if (literal === 'mismatch') throw new TrellisError('DNS_RESOLUTION_FAILED', `${name} is not an address of the lookup family ${this.#family}`);
    if (literal) return literal;
    try {
      return await lookup(this.#family, (record) => (record === 'A' ? this.#resolver.resolve4(name, { ttl: true }) : this.#resolver.resolve6(name, { ttl: true })));
    } catch (err) {
      throw new TrellisError('DNS_RESOLUTION_FAILED', `cannot resolve ${name} (${this.#family}): ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Abandons queries in flight (they fail with ECANCELLED). */
  cancel(): void {
    this.#resolver.cancel();
  }
}
