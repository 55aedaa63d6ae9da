/**
 * AuthorizationPolicy and RequestAuthentication features that Istio accepts
 * and Trellis does not implement: reported, never silently ignored, each
 * with what Trellis generates instead.
 */
import type { AuthorizationPolicy, RequestAuthentication } from '../../config/objects.js';
import type { Finding } from './finding.js';
import { Unsupported } from './messages.js';

/** An AuthorizationPolicy a waypoint enforces (translate/waypoint/served.ts): every targetRef a Service, a waypoint Gateway or the waypoint class. */
export type WaypointAttached = (p: AuthorizationPolicy) => boolean;

function targetRefFindings(p: AuthorizationPolicy | RequestAuthentication, waypoint: WaypointAttached): Finding[] {
  const spec = p.spec as AuthorizationPolicy['spec'] | undefined;
  if (!spec?.targetRef && (spec?.targetRefs?.length ?? 0) === 0) return [];
  if (p.kind === 'AuthorizationPolicy' && waypoint(p)) return [];
  return [{ type: Unsupported, path: ['spec', spec?.targetRef ? 'targetRef' : 'targetRefs'], message: 'targetRef(s) attach a policy to Kubernetes Gateway API gateways and waypoints, of which Trellis serves waypoints (for AuthorizationPolicies); this one names neither a waypoint nor a Service, so no proxy enforces it (a policy for an Istio ingress gateway selects its pod with selector, which Trellis enforces on the gateway)' }];
}

export function securityFindings(p: AuthorizationPolicy | RequestAuthentication, waypoint: WaypointAttached = () => false): Finding[] {
  if (p.kind === 'RequestAuthentication') return targetRefFindings(p, waypoint);
  const out: Finding[] = [];
  if (p.spec.action === 'CUSTOM') {
    out.push({
      type: Unsupported, path: ['spec', 'action'],
      message: `action CUSTOM (provider ${JSON.stringify(p.spec.provider?.name ?? '')}) is not supported: Trellis has no extension providers, so requests its rules match are denied, as istiod does for a provider it cannot find`,
    });
  }
  out.push(...targetRefFindings(p, waypoint));
  return out;
}
