/**
 * SPIFFE identities on a TLS peer. node:tls verifies the chain but its
 * hostname check knows DNS and IP SANs only; HBONE's identity is the URI SAN
 * spiffe://TD/ns/NS/sa/SA, so both directions check it here: the server
 * wants a client of its own trust domain, the client wants one of the
 * destination's expected identities.
 */
import type { X509Certificate } from 'node:crypto';
import { parseSans } from '../../proxy/tls/peer-identity.js';

export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
  /** The id as written: spiffe://TD/ns/NS/sa/SA. */
  uri: string;
}

const SPIFFE = /^spiffe:\/\/([a-z0-9._-]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/** The parts of an Istio SPIFFE id, or undefined for any other URI. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  const m = SPIFFE.exec(uri);
  return m ? { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]!, uri } : undefined;
}

/** Every Istio SPIFFE id among a certificate's URI SANs (normally one). */
export const certificateSpiffeIds = (x509: X509Certificate | undefined): SpiffeId[] => sanSpiffeIds(x509?.subjectAltName);

/** The same from node's subjectaltname text ("URI:spiffe://..., DNS:..."), as checkServerIdentity gets it. */
export function sanSpiffeIds(subjectAltName: string | undefined): SpiffeId[] {
  return parseSans(subjectAltName)
    .filter(([type]) => type === 'URI')
    .map(([, v]) => parseSpiffeId(v))
    .filter((id): id is SpiffeId => id !== undefined);
}

/**
 * Why a server refuses a client certificate, or undefined when it is one of
 * `trustDomain`. Pure: the caller reads the certificate off the socket.
 */
export function trustDomainMismatch(ids: readonly SpiffeId[], trustDomain: string): string | undefined {
  if (ids.length === 0) return 'the client certificate has no SPIFFE URI SAN';
  if (ids.some((id) => id.trustDomain === trustDomain)) return undefined;
  return `client identity ${ids.map((id) => id.uri).join(', ')} is not in trust domain ${trustDomain}`;
}

/** Why a client refuses a server certificate, or undefined when it carries one of `expected`. */
export function identityMismatch(ids: readonly SpiffeId[], expected: readonly string[]): string | undefined {
  if (ids.some((id) => expected.includes(id.uri))) return undefined;
  const got = ids.length ? ids.map((id) => id.uri).join(', ') : 'no SPIFFE URI SAN';
  return `server identity ${got} is not one of the expected ${expected.join(', ') || '(none)'}`;
}
