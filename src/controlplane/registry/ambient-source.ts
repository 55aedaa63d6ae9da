import type { GatewayClass, KubernetesGateway } from '../../config/gateway-api.js';
import type { AuthorizationPolicy, Namespace, Pod } from '../../config/objects.js';
import { byKey } from './labels.js';

/**
 * What the workload API (ambient mode, translate/ambient/) reads as the
 * objects are, beyond the model's indexes: namespace labels (the
 * istio.io/dataplane-mode switch, istio.io/use-waypoint), pods with their
 * annotations, node and readiness, every AuthorizationPolicy, and the
 * Gateway API Gateways and classes (waypoints). Sorted: equal config, equal order.
 */
export interface AmbientSource {
  /** A Namespace object's labels; none when the config has no object for it. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>>;
  /** The Namespace object, when the config has one (findings point at its labels). */
  namespace(name: string): Namespace | undefined;
  /** By namespace, then name. */
  readonly pods: readonly Pod[];
  /** By namespace, then name. */
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  /** Gateway API Gateways (any class), by namespace, then name. */
  readonly gateways: readonly KubernetesGateway[];
  /** GatewayClass by name. */
  gatewayClass(name: string): GatewayClass | undefined;
}

const noLabels: Readonly<Record<string, string>> = Object.freeze({});
const byName = byKey((o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`);

export function ambientSource(
  namespaces: readonly Namespace[],
  pods: readonly Pod[],
  policies: readonly AuthorizationPolicy[],
  gateways: readonly KubernetesGateway[] = [],
  classes: readonly GatewayClass[] = [],
): AmbientSource {
  const byNs = new Map(namespaces.map((n) => [n.metadata.name, n]));
  const byClass = new Map(classes.map((c) => [c.metadata.name, c]));
  return {
    namespaceLabels: (ns) => byNs.get(ns)?.metadata.labels ?? noLabels,
    namespace: (ns) => byNs.get(ns),
    pods: [...pods].sort(byName),
    authorizationPolicies: [...policies].sort(byName),
    gateways: [...gateways].sort(byName),
    gatewayClass: (name) => byClass.get(name),
  };
}
