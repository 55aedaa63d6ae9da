/**
 * Conflicting PeerAuthentications (Trellis' TRL0001, TRL0002; Istio has no
 * analyzer for them): at each level only the oldest policy applies
 * (registry/peer-authentication.ts), so a second namespace-wide (or
 * mesh-wide) policy, or a second policy selecting the same pod, is ignored
 * without a word — usually not what its author meant. Worded like Istio's
 * Sidecar analyzers (IST0110, IST0111), which report the same situation for
 * Sidecars.
 */
import type { PeerAuthentication, Pod } from '../../config/objects.js';
import { isEmpty, selectorMatches } from '../registry/labels.js';
import { byAge } from '../registry/policies.js';
import type { Finding } from './finding.js';
import { ConflictingPeerAuthenticationWorkloadSelectors, MultiplePeerAuthenticationsWithoutWorkloadSelectors } from './messages.js';

export interface PolicyFinding {
  policy: PeerAuthentication;
  finding: Finding;
}

const nsOf = (o: { metadata: { namespace?: string } }) => o.metadata.namespace ?? 'default';
const names = (ps: readonly PeerAuthentication[]) => ps.map((p) => p.metadata.name).sort().join(', ');

export function peerAuthenticationFindings(policies: readonly PeerAuthentication[], pods: readonly Pod[], rootNamespace: string): PolicyFinding[] {
  const out: PolicyFinding[] = [];
  const byNs = new Map<string, PeerAuthentication[]>();
  for (const p of policies) byNs.set(nsOf(p), [...(byNs.get(nsOf(p)) ?? []), p]);
  for (const [ns, list] of [...byNs].sort((a, b) => a[0].localeCompare(b[0]))) {
    const wide = list.filter((p) => isEmpty(p.spec?.selector?.matchLabels)).sort(byAge);
    if (wide.length > 1) {
      const message = `The PeerAuthentications [${names(wide)}] in namespace "${ns}" have no workload selector; only the oldest, ${wide[0]!.metadata.name}, applies${ns === rootNamespace ? ' mesh-wide' : ''}.`;
      for (const p of wide) out.push({ policy: p, finding: { type: MultiplePeerAuthenticationsWithoutWorkloadSelectors, path: ['metadata', 'name'], message } });
    }
    if (ns === rootNamespace) continue;
    const selecting = list.filter((p) => !isEmpty(p.spec?.selector?.matchLabels));
    const reported = new Set<string>();
    for (const pod of pods.filter((x) => nsOf(x) === ns)) {
      const hits = selecting.filter((p) => selectorMatches(p.spec?.selector?.matchLabels, pod.metadata.labels ?? {})).sort(byAge);
      const key = names(hits);
      if (hits.length < 2 || reported.has(key)) continue;
      reported.add(key);
      const message = `The PeerAuthentications [${key}] in namespace "${ns}" select the same workload pod "${pod.metadata.name}"; only the oldest, ${hits[0]!.metadata.name}, applies to it.`;
      for (const p of hits) out.push({ policy: p, finding: { type: ConflictingPeerAuthenticationWorkloadSelectors, path: ['metadata', 'name'], message } });
    }
  }
  return out;
}
