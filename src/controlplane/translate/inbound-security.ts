import { objectKey } from '../../config/objects.js';
import type { MeshModel } from '../registry/model.js';
import type { InboundSecurity } from './inbound.js';
import { composePeerAuthentication, peerAuthKey } from '../registry/peer-authentication.js';
import type { SharedCache } from './shared-cache.js';

/** A workload's inbound security and the key that identifies it among workloads. */
export interface InboundSecuritySpec {
  /** Equal keys, equal InboundSecurity: the merged mTLS modes and the identities of the selected AuthorizationPolicies and RequestAuthentications, in order. */
  key: string;
  make(): InboundSecurity;
}

/**
 * What a workload's PeerAuthentications, RequestAuthentications and AuthorizationPolicies make of
 * its inbound listener. The key is cheap (no filters are built for it), so
 * workloads that share it share one listener.
 */
export function inboundSecurity(model: MeshModel, namespace: string, labels: Readonly<Record<string, string>>, shared: SharedCache): InboundSecuritySpec {
  const mtls = composePeerAuthentication(model.rootNamespace, model.peerAuthenticationsFor(namespace, labels), { namespace, labels });
  const policies = model.authorizationPoliciesFor(namespace, labels);
  const authzKey = policies.map(objectKey).join(',');
  const jwt = model.requestAuthenticationsFor(namespace, labels);
  const authnKey = jwt.map(objectKey).join(',');
  return {
    key: `${peerAuthKey(mtls)}#${authzKey}#${authnKey}`,
    make: () => ({ mtls, authn: shared.authnFilters(authnKey, jwt), authz: shared.authzFilters(authzKey, policies), trustDomain: model.trustDomain }),
  };
}
