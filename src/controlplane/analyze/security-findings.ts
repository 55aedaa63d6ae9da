/**
 * AuthorizationPolicy and RequestAuthentication features that Istio accepts
 * and Trellis does not implement: reported, never silently ignored, each
 * with what Trellis generates instead.
 */
import type { AuthorizationPolicy, RequestAuthentication } from '../../config/objects.js';
import type { Finding } from './finding.js';
import { Unsupported } from './messages.js';

function targetRefFindings(p: AuthorizationPolicy | RequestAuthentication): Finding[] {
  const spec = p.spec as AuthorizationPolicy['spec'] | undefined;
  if (!spec?.targetRef && (spec?.targetRefs?.length ?? 0) === 0) return [];
  return [{ type: Unsupported, path: ['spec', spec?.targetRef ? 'targetRef' : 'targetRefs'], message: 'targetRef(s) attach a policy to Kubernetes Gateway API gateways and waypoints, which Trellis does not serve; no proxy enforces this policy (a policy for an Istio ingress gateway selects its pod with selector, which Trellis enforces on the gateway)' }];
}

export function securityFindings(p: AuthorizationPolicy | RequestAuthentication): Finding[] {
  if (p.kind === 'RequestAuthentication') return targetRefFindings(p);
  const out: Finding[] = [];
  if (p.spec.action === 'CUSTOM') {
    out.push({
      type: Unsupported, path: ['spec', 'action'],
      message: `action CUSTOM (provider ${JSON.stringify(p.spec.provider?.name ?? '')}) is not supported: Trellis has no extension providers, so requests its rules match are denied, as istiod does for a provider it cannot find`,
    });
  }
  out.push(...targetRefFindings(p));
  return out;
}
