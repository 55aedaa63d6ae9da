/**
 * Istio's DestinationRuleAnalyzer for VirtualServices: a destination subset
 * must be defined by a DestinationRule for its host, else the route names a
 * subset cluster ("outbound|PORT|SUBSET|HOST") that is never generated.
 */
import type { VirtualService } from '../../config/objects.js';
import { destinationsOf } from './destinations.js';
import { referencedResourceNotFound } from './messages.js';
import type { RuleSubsets } from './rule-subsets.js';
import type { ServiceHosts } from './service-hosts.js';
import type { Finding } from './finding.js';

export function destinationSubsetFindings(vs: VirtualService, subsets: RuleSubsets, hosts: ServiceHosts): Finding[] {
  const out: Finding[] = [];
  for (const { destination, path, mirror } of destinationsOf(vs)) {
    const subset = destination.subset;
    if (subset === undefined || subset === null || subset === '') continue;
    if (subsets.has(hosts.resolve(destination.host, vs), subset)) continue;
    const reftype = mirror ? 'mirror+subset in destinationrule' : 'host+subset in destinationrule';
    out.push({ path: [...path, 'subset'], ...referencedResourceNotFound(reftype, `${destination.host}+${subset}`) });
  }
  return out;
}
