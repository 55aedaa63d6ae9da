/**
 * The SDS names of gateway credentials, as istiod spells them
 * (pilot/pkg/credentials: `kubernetes://NAME`, and `kubernetes://NAME-cacert`
 * for the client CA of a MUTUAL server). Pure string handling, shared by the
 * listener side (which names them) and the secret side (which serves them).
 */
import type { ServerTLSSettings } from '../../../config/objects.js';

export const KubernetesSecretPrefix = 'kubernetes://';
export const CaCertSuffix = '-cacert';

/**
 * The Secret a server's certificate comes from: credentialName, else the one
 * credentialNames entry (several — an RSA and an ECDSA pair — need two
 * certificates on one chain, which the proxy does not do: reported, and the
 * server is not served).
 */
export function serverCredentialName(tls: ServerTLSSettings | undefined): string | undefined {
  if (tls?.credentialName) return tls.credentialName;
  return tls?.credentialNames?.length === 1 ? tls.credentialNames[0] : undefined;
}

export function credentialResourceName(name: string): string {
  return name.startsWith(KubernetesSecretPrefix) ? name : `${KubernetesSecretPrefix}${name}`;
}

export function credentialCaName(name: string): string {
  return `${credentialResourceName(name)}${CaCertSuffix}`;
}

/**
 * What an SDS resource name asks for: a Secret of the proxy's own namespace
 * (a name with a namespace, "kubernetes://ns/name", is refused: istiod allows
 * it only after a SubjectAccessReview, which Trellis does not do), and
 * whether it is the CA part. Undefined: not a credential name.
 */
export function parseCredentialResource(resource: string): { secret: string; ca: boolean } | undefined {
  if (!resource.startsWith(KubernetesSecretPrefix)) return undefined;
  const name = resource.slice(KubernetesSecretPrefix.length);
  if (name === '' || name.includes('/')) return undefined;
  return name.endsWith(CaCertSuffix) ? { secret: name, ca: true } : { secret: name, ca: false };
}
