/**
 * Every Destination a VirtualService names, with its field path: route
 * destinations of http, tcp and tls routes, and http mirrors (`mirror` and
 * `mirrors`). These are what becomes a cluster name in the route, so each
 * must name something that has a cluster.
 */
import type { Destination, VirtualService } from '../../config/objects.js';
import type { FieldPath } from '../../config/field-lines.js';

export interface NamedDestination {
  readonly destination: Destination;
  /** Path of the Destination object inside the VirtualService. */
  readonly path: FieldPath;
  /** Mirrors are reported with Istio's "mirror" wording. */
  readonly mirror: boolean;
}

export function destinationsOf(vs: VirtualService): NamedDestination[] {
  const out: NamedDestination[] = [];
  const routes = (kind: 'http' | 'tcp' | 'tls') => vs.spec[kind] ?? [];
  for (const kind of ['http', 'tcp', 'tls'] as const) {
    routes(kind).forEach((rule, i) => {
      (rule.route ?? []).forEach((rd, j) => out.push({ destination: rd.destination, path: ['spec', kind, i, 'route', j, 'destination'], mirror: false }));
    });
  }
  (vs.spec.http ?? []).forEach((rule, i) => {
    if (rule.mirror) out.push({ destination: rule.mirror, path: ['spec', 'http', i, 'mirror'], mirror: true });
    (rule.mirrors ?? []).forEach((m, k) => out.push({ destination: m.destination, path: ['spec', 'http', i, 'mirrors', k, 'destination'], mirror: true }));
  });
  return out;
}
