import type { AuthorizationPolicy, Namespace, Pod } from '../../config/objects.js';
import { byKey } from './labels.js';

/**
 * What the workload API (ambient mode, translate/ambient/) reads as the
 * objects are, beyond the model's indexes: namespace labels (the
 * istio.io/dataplane-mode switch), pods with their annotations, node and
 * readiness, and every AuthorizationPolicy. Sorted: equal config, equal order.
 */
export interface AmbientSource {
  /** A Namespace object's labels; none when the config has no object for it. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>>;
  /** By namespace, then name. */
  readonly pods: readonly Pod[];
  /** By namespace, then name. */
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
}

const noLabels: Readonly<Record<string, string>> = Object.freeze({});
const byName = byKey((o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`);

export function ambientSource(namespaces: readonly Namespace[], pods: readonly Pod[], policies: readonly AuthorizationPolicy[]): AmbientSource {
  const labels = new Map(namespaces.map((n) => [n.metadata.name, n.metadata.labels ?? noLabels]));
  return {
    namespaceLabels: (ns) => labels.get(ns) ?? noLabels,
    pods: [...pods].sort(byName),
    authorizationPolicies: [...policies].sort(byName),
  };
}
