/**
 * Whether a pod runs a sidecar, decided from config alone as Istio's
 * injector decides it: the pod's sidecar.istio.io/inject label (then
 * annotation) wins; a pod already injected carries
 * security.istio.io/tlsMode=istio; otherwise the namespace's
 * istio-injection label (enabled/disabled) or an istio.io/rev label.
 */
import type { AnyObject, Pod } from '../config/objects.js';

export function hasSidecar(pod: Pod, namespaces: ReadonlyMap<string, AnyObject>): boolean {
  const explicit = pod.metadata.labels?.['sidecar.istio.io/inject'] ?? pod.metadata.annotations?.['sidecar.istio.io/inject'];
  if (explicit !== undefined) return explicit === 'true';
  if (pod.metadata.labels?.['security.istio.io/tlsMode'] === 'istio') return true;
  const ns = namespaces.get(pod.metadata.namespace ?? 'default')?.metadata.labels ?? {};
  if (ns['istio-injection'] !== undefined) return ns['istio-injection'] === 'enabled';
  return ns['istio.io/rev'] !== undefined;
}

/** Namespace objects by name, for hasSidecar. */
export function namespacesOf(objects: readonly AnyObject[]): Map<string, AnyObject> {
  return new Map(objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o]));
}
