/**
 * istiod's node authorizer (security/pkg/server/ca/node_auth.go), as a pure
 * decision: may this caller get a certificate for another identity?
 *
 * A node proxy (ztunnel) holds the certificates of the pods on its node and
 * asks for them with its own token, naming the identity it wants in the
 * request's metadata (`ImpersonatedIdentity`: spiffe://TD/ns/NS/sa/SA).
 * It is allowed when
 *   1. the caller's service account is a trusted node account (istiod's
 *      CA_TRUSTED_NODE_ACCOUNTS; Istio's ambient default istio-system/ztunnel),
 *   2. the requested id is a service-account SPIFFE id of this trust domain,
 *   3. the caller's node is known: from the pod its token is bound to (that
 *      pod must exist with the token's uid and service account, as istiod
 *      checks), or else from the node a node-bound token names,
 *   4. a pod with the requested service account is scheduled on that node.
 * Anything else is refused with the reason; nothing is remembered either way.
 */
import { TrellisError } from '../../errors.js';
import { checkIdentity, parseSpiffeId, type WorkloadIdentity } from '../spiffe.js';
import type { TokenSubject } from '../token.js';

/** The request metadata field a node proxy names the identity in (istio.io/istio pkg/security, ztunnel's CA client). */
export const IMPERSONATED_IDENTITY = 'ImpersonatedIdentity';

/** Istio's trusted node account for ambient mode (its Helm chart sets CA_TRUSTED_NODE_ACCOUNTS to this). */
export const DEFAULT_TRUSTED_NODE_ACCOUNTS = 'istio-system/ztunnel';

/** What the CA knows of a pod. */
export interface PodRecord {
  uid?: string;
  serviceAccount: string;
  nodeName?: string;
}

/** The CA's view of the pods (pod-index.ts builds it from the control plane's Pod objects). */
export interface PodDirectory {
  pod(namespace: string, name: string): PodRecord | undefined;
  /** Whether at least one pod with this service account is scheduled on `node`. */
  hasServiceAccountOn(node: string, id: WorkloadIdentity): boolean;
}

export interface ImpersonationRequest {
  caller: TokenSubject;
  /** The ImpersonatedIdentity the caller sent. */
  requested: string;
  trustDomain: string;
  trustedNodeAccounts: readonly WorkloadIdentity[];
  pods: PodDirectory;
}

export type ImpersonationDecision =
  | { allowed: true; identity: WorkloadIdentity; node: string }
  | { allowed: false; reason: string };

const name = (id: WorkloadIdentity) => `${id.namespace}/${id.serviceAccount}`;

export function authorizeImpersonation(r: ImpersonationRequest): ImpersonationDecision {
  const caller = name(r.caller);
  if (!r.trustedNodeAccounts.some((t) => name(t) === caller)) {
    const trusted = r.trustedNodeAccounts.length === 0 ? 'none are configured' : `trusted node accounts: ${r.trustedNodeAccounts.map(name).join(', ')}`;
    return { allowed: false, reason: `caller ${caller} is not a node proxy and may not ask for another identity (${trusted})` };
  }
  let wanted: ReturnType<typeof parseSpiffeId>;
  try {
    wanted = parseSpiffeId(r.requested);
  } catch (err) {
    return { allowed: false, reason: (err as Error).message };
  }
  if (wanted.trustDomain !== r.trustDomain) {
    return { allowed: false, reason: `${r.requested} is not in this CA's trust domain ${r.trustDomain}` };
  }
  const node = callerNode(r.caller, r.pods);
  if ('reason' in node) return { allowed: false, reason: node.reason };
  if (!r.pods.hasServiceAccountOn(node.name, wanted.identity)) {
    return { allowed: false, reason: `no pod with service account ${name(wanted.identity)} runs on node ${node.name}, the node of caller ${caller}` };
  }
  return { allowed: true, identity: wanted.identity, node: node.name };
}

/** The node the caller runs on, from its token's bound pod (checked against the view) or bound node. */
function callerNode(caller: TokenSubject, pods: PodDirectory): { name: string } | { reason: string } {
  if (!caller.pod) {
    if (caller.node) return { name: caller.node.name };
    return { reason: `the token of ${name(caller)} is bound to no pod and no node, so the CA cannot tell which node the caller runs on` };
  }
  const where = `${caller.namespace}/${caller.pod.name}`;
  const pod = pods.pod(caller.namespace, caller.pod.name);
  if (!pod) return { reason: `the caller's pod ${where} is not known to the control plane` };
  // A pod re-created under the same name: the old pod's token no longer speaks for it.
  if (caller.pod.uid !== undefined && pod.uid !== undefined && caller.pod.uid !== pod.uid) {
    return { reason: `the caller's pod ${where} has uid ${pod.uid}, not the token's ${caller.pod.uid}` };
  }
  if (pod.serviceAccount !== caller.serviceAccount) {
    return { reason: `the caller's pod ${where} runs as service account ${pod.serviceAccount}, not ${caller.serviceAccount}` };
  }
  if (!pod.nodeName) return { reason: `the caller's pod ${where} is not scheduled on a node (no spec.nodeName)` };
  if (caller.node && caller.node.name !== pod.nodeName) {
    return { reason: `the caller's token names node ${caller.node.name}, but its pod ${where} is on node ${pod.nodeName}` };
  }
  return { name: pod.nodeName };
}

/** "ns/sa,ns/sa" (istiod's CA_TRUSTED_NODE_ACCOUNTS format); an empty string trusts no one. CLI_USAGE when malformed. */
export function parseTrustedNodeAccounts(flag: string, value: string): WorkloadIdentity[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items.map((item) => {
    const [namespace, serviceAccount, ...rest] = item.split('/');
    try {
      if (rest.length > 0 || !namespace || !serviceAccount) throw new Error('not NAMESPACE/SERVICE_ACCOUNT');
      return checkIdentity({ namespace, serviceAccount });
    } catch (err) {
      throw new TrellisError('CLI_USAGE', `${flag}: ${JSON.stringify(item)} is not NAMESPACE/SERVICE_ACCOUNT (${(err as Error).message})`);
    }
  });
}
