/**
 * The SDS names of gateway credentials, as istiod spells them
 * (pilot/pkg/credentials: `kubernetes://NAME`, and `kubernetes://NAME-cacert`
 * for the client CA of a MUTUAL server; a Gateway API listener's
 * certificateRef is `kubernetes-gateway://NAMESPACE/NAME`). Pure string
 * handling, shared by the listener side (which names them) and the secret
 * side (which serves them).
 */
import type { ServerTLSSettings } from '../../../config/objects.js';

export const KubernetesSecretPrefix = 'kubernetes://';
export const KubernetesGatewaySecretPrefix = 'kubernetes-gateway://';
export const CaCertSuffix = '-cacert';

/** What an SDS credential name asks for. */
export interface CredentialRef {
  /** The Secret's namespace when the name says it (kubernetes-gateway://); else the proxy's own. */
  readonly namespace: string | undefined;
  /** The Secret's name (with "-cacert" for a CA part, which may be its own Secret). */
  readonly secret: string;
  readonly ca: boolean;
}

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
  return name.startsWith(KubernetesSecretPrefix) || name.startsWith(KubernetesGatewaySecretPrefix) ? name : `${KubernetesSecretPrefix}${name}`;
}

export function credentialCaName(name: string): string {
  return `${credentialResourceName(name)}${CaCertSuffix}`;
}

/**
 * What an SDS resource name asks for: "kubernetes://NAME", a Secret of the
 * proxy's own namespace (with a namespace, "kubernetes://ns/name", it is
 * refused: istiod allows that only after a SubjectAccessReview, which Trellis
 * does not do), or "kubernetes-gateway://NS/NAME", a Gateway API
 * certificateRef (served only where authorized: credential-secrets.ts).
 * Undefined: not a credential name.
 */
export function parseCredentialResource(resource: string): CredentialRef | undefined {
  let namespace: string | undefined;
  let secret: string;
  if (resource.startsWith(KubernetesSecretPrefix)) {
    secret = resource.slice(KubernetesSecretPrefix.length);
    if (secret.includes('/')) return undefined;
  } else if (resource.startsWith(KubernetesGatewaySecretPrefix)) {
    const parts = resource.slice(KubernetesGatewaySecretPrefix.length).split('/');
    if (parts.length !== 2 || parts[0] === '') return undefined;
    [namespace, secret] = parts as [string, string];
  } else return undefined;
  if (secret === '') return undefined;
  return { namespace, secret, ca: secret.endsWith(CaCertSuffix) };
}
