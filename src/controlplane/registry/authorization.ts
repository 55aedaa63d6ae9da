/**
 * Which AuthorizationPolicies apply to a workload, as Istio selects them:
 * those of its namespace without a selector or whose selector matches its
 * labels, and those of the root namespace likewise (mesh-wide). Sorted by
 * action (CUSTOM, DENY, ALLOW, AUDIT: the order Envoy evaluates them in),
 * then by namespace and name.
 */
import type { AuthorizationPolicy } from '../../config/objects.js';
import { selectorMatches } from './labels.js';
import type { WorkloadRef } from './peer-authentication.js';

const actionOrder = { CUSTOM: 0, DENY: 1, ALLOW: 2, AUDIT: 3 } as const;

export function authorizationPoliciesFor(rootNamespace: string, policies: Iterable<AuthorizationPolicy>, w: WorkloadRef): AuthorizationPolicy[] {
  const out: AuthorizationPolicy[] = [];
  for (const p of policies) {
    const ns = p.metadata.namespace ?? 'default';
    if (ns !== w.namespace && ns !== rootNamespace) continue;
    if (selectorMatches(p.spec?.selector?.matchLabels, w.labels)) out.push(p);
  }
  const key = (p: AuthorizationPolicy) => `${p.metadata.namespace ?? ''}/${p.metadata.name}`;
  return out.sort((a, b) => actionOrder[a.spec?.action ?? 'ALLOW'] - actionOrder[b.spec?.action ?? 'ALLOW'] || key(a).localeCompare(key(b)));
}
