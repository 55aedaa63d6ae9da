/**
 * AuthorizationPolicy features that Istio accepts and Trellis does not
 * implement: reported, never silently ignored, each with what Trellis
 * generates instead.
 */
import type { AuthorizationPolicy } from '../../config/objects.js';
import type { Finding } from './finding.js';
import { Unsupported } from './messages.js';

const jwtKeys = (key: string) => key.startsWith('request.auth.');

export function securityFindings(p: AuthorizationPolicy): Finding[] {
  const out: Finding[] = [];
  if (p.spec.action === 'CUSTOM') {
    out.push({
      type: Unsupported, path: ['spec', 'action'],
      message: `action CUSTOM (provider ${JSON.stringify(p.spec.provider?.name ?? '')}) is not supported: Trellis has no extension providers, so requests its rules match are denied, as istiod does for a provider it cannot find`,
    });
  }
  if (p.spec.targetRef || (p.spec.targetRefs?.length ?? 0) > 0) {
    out.push({ type: Unsupported, path: ['spec', p.spec.targetRef ? 'targetRef' : 'targetRefs'], message: 'targetRef(s) attach a policy to gateways and waypoints, which Trellis does not run; no sidecar enforces this policy (as in istiod)' });
  }
  (p.spec.rules ?? []).forEach((rule, i) => {
    const jwtFrom = (rule.from ?? []).findIndex((f) => (f.source.requestPrincipals?.length ?? 0) + (f.source.notRequestPrincipals?.length ?? 0) > 0);
    const jwtWhen = (rule.when ?? []).findIndex((w) => jwtKeys(w.key));
    if (jwtFrom < 0 && jwtWhen < 0) return;
    const path = jwtFrom >= 0 ? ['spec', 'rules', i, 'from', jwtFrom, 'source'] : ['spec', 'rules', i, 'when', jwtWhen, 'key'];
    out.push({
      type: Unsupported, path,
      message: 'request principals and request.auth.* need RequestAuthentication (JWT), not implemented yet: no request carries a validated token, so these match nothing (and their not- forms everything)',
    });
  });
  return out;
}
