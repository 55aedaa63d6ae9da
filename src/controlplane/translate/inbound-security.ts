import { objectKey } from '../../config/objects.js';
import type { MeshModel } from '../registry/model.js';
import type { InboundSecurity } from './inbound.js';
import { composePeerAuthentication, modeSourcesKey, peerAuthKey } from '../registry/peer-authentication.js';
import type { SharedCache } from './shared-cache.js';

/** A workload's inbound security and the key that identifies it among workloads. */
export interface InboundSecuritySpec {
  /** Equal keys, equal InboundSecurity: the merged mTLS modes and the identities of the selected AuthorizationPolicies and RequestAuthentications, in order. */
  key: string;
  make(): InboundSecurity;
}

/** The request-level security of a workload (inbound sidecar or gateway): its jwt_authn and RBAC filters, and their key. */
export interface RequestSecuritySpec {
  key: string;
  make(): Pick<InboundSecurity, 'authn' | 'authz'>;
}

/**
 * The RequestAuthentications and AuthorizationPolicies selecting a workload
 * (its namespace and labels), as filters memoised in the shared cache. istiod
 * chooses them the same way for a sidecar and for a gateway pod.
 */
export function requestSecurity(model: MeshModel, namespace: string, labels: Readonly<Record<string, string>>, shared: SharedCache): RequestSecuritySpec {
  const policies = model.authorizationPoliciesFor(namespace, labels);
  const authzKey = policies.map(objectKey).join(',');
  const jwt = model.requestAuthenticationsFor(namespace, labels);
  const authnKey = jwt.map(objectKey).join(',');
  return {
    key: `${authzKey}#${authnKey}`,
    make: () => ({ authn: shared.authnFilters(authnKey, jwt), authz: shared.authzFilters(authzKey, policies) }),
  };
}

/**
 * What a workload's PeerAuthentications, RequestAuthentications and AuthorizationPolicies make of
 * its inbound listener. The key is cheap (no filters are built for it), so
 * workloads that share it share one listener.
 */
export function inboundSecurity(model: MeshModel, namespace: string, labels: Readonly<Record<string, string>>, shared: SharedCache): InboundSecuritySpec {
  const mtls = composePeerAuthentication(model.rootNamespace, model.peerAuthenticationsFor(namespace, labels), { namespace, labels });
  const request = requestSecurity(model, namespace, labels, shared);
  return {
    key: `${peerAuthKey(mtls)}@${modeSourcesKey(mtls)}#${request.key}`,
    make: () => ({ mtls, ...request.make(), trustDomain: model.trustDomain }),
  };
}
