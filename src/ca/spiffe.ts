/**
 * Workload identities and their SPIFFE ids, spiffe://TRUST_DOMAIN/ns/NS/sa/SA,
 * as Istio writes them. Names are checked the way Kubernetes checks them
 * (a namespace is a DNS label, a service account a DNS subdomain) before
 * they go into an id: a "/" smuggled into a name would make another id.
 */
import { TrellisError } from '../errors.js';

export interface WorkloadIdentity {
  namespace: string;
  serviceAccount: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A name Kubernetes accepts for a service account, pod or node: a DNS subdomain of at most 253 characters. */
export function isDnsSubdomain(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

/** Throws TOKEN_CLAIMS unless `id` names a namespace and a service account Kubernetes would accept. */
export function checkIdentity(id: WorkloadIdentity): WorkloadIdentity {
  if (typeof id.namespace !== 'string' || !DNS_LABEL.test(id.namespace)) {
    throw new TrellisError('TOKEN_CLAIMS', `namespace ${JSON.stringify(id.namespace)} is not a DNS label (lower-case letters, digits, '-', at most 63)`);
  }
  if (!isDnsSubdomain(id.serviceAccount)) {
    throw new TrellisError('TOKEN_CLAIMS', `service account ${JSON.stringify(id.serviceAccount)} is not a DNS subdomain (lower-case letters, digits, '-', '.', at most 253)`);
  }
  return id;
}

export function spiffeId(trustDomain: string, id: WorkloadIdentity): string {
  return `spiffe://${trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The Kubernetes subject of a service account token: system:serviceaccount:NS:SA. */
export function serviceAccountSubject(id: WorkloadIdentity): string {
  return `system:serviceaccount:${id.namespace}:${id.serviceAccount}`;
}

/** The identity of a service-account subject "system:serviceaccount:NS:SA" (names checked); TOKEN_CLAIMS otherwise. */
export function parseServiceAccountSubject(subject: unknown): WorkloadIdentity {
  const m = typeof subject === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject) : null;
  if (!m) throw new TrellisError('TOKEN_CLAIMS', `subject ${JSON.stringify(subject)} is not system:serviceaccount:NAMESPACE:NAME`);
  return checkIdentity({ namespace: m[1]!, serviceAccount: m[2]! });
}

/**
 * The trust domain and identity of spiffe://TRUST_DOMAIN/ns/NS/sa/SA (names
 * checked as checkIdentity does); CA_IDENTITY for anything else — a path of
 * another shape names no service account the CA could sign for.
 */
export function parseSpiffeId(uri: string): { trustDomain: string; identity: WorkloadIdentity } {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) throw new TrellisError('CA_IDENTITY', `${JSON.stringify(uri)} is not a SPIFFE id of the form spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT`);
  try {
    return { trustDomain: m[1]!, identity: checkIdentity({ namespace: m[2]!, serviceAccount: m[3]! }) };
  } catch (err) {
    throw new TrellisError('CA_IDENTITY', `${uri}: ${(err as Error).message}`, { cause: err });
  }
}
