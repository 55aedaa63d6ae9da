/**
 * What a terminated TLS connection knows about its peer, read once after the
 * handshake: the SANs and subject that RBAC principals match (Envoy's
 * uriSanPeerCertificate, dnsSansPeerCertificate, subjectPeerCertificate) and,
 * on first use only, what x-forwarded-client-cert reports (hash, PEM, chain).
 */
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';

export interface TlsPeer {
  /** The peer presented a certificate (mutual TLS); false for TLS without a client certificate. */
  readonly presented: boolean;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** RFC 2253, as Envoy (OpenSSL's XN_FLAG_RFC2253) prints it; '' without a certificate. */
  readonly subject: string;
  /** The URI SANs of the certificate this side presented (XFCC's By=). */
  localUriSans(): readonly string[];
  /** Hex SHA-256 of the peer certificate's DER (XFCC's Hash=). */
  sha256(): string;
  /** The peer certificate in PEM. */
  pem(): string;
  /** The peer's chain in PEM, leaf first, without a self-signed root (node only exposes the verified chain). */
  chainPem(): string;
}

/**
 * Splits node's subjectaltname ("URI:a, DNS:b, IP Address:c"); values with
 * separators or quotes are JSON strings there (node ≥ 17.3, CVE-2021-44532).
 */
export function parseSans(s: string | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!s) return out;
  let i = 0;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = s.slice(i, colon);
    let value: string;
    let next: number;
    if (s[colon + 1] === '"') {
      let j = colon + 2;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(s.slice(colon + 1, j + 1)) as string;
      } catch {
        value = s.slice(colon + 2, j);
      }
      next = s.indexOf(', ', j);
    } else {
      next = s.indexOf(', ', colon);
      value = s.slice(colon + 1, next < 0 ? s.length : next);
    }
    out.push([type, value]);
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

const sansOf = (s: string | undefined, type: string) => parseSans(s).filter(([t]) => t === type).map(([, v]) => v);

/**
 * RFC 2253 from node's subject: node prints one RDN per line in certificate
 * order ("O=a\nOU=b + CN=c"), already escaped the RFC 2253 way; OpenSSL's
 * RFC 2253 form lists every attribute in reverse ("CN=c+OU=b,O=a").
 */
export function rfc2253(subject: string): string {
  if (!subject) return '';
  return subject.split('\n').reverse().map((rdn) => rdn.split(' + ').reverse().join('+')).join(',');
}

/** Reads the peer of a server-side TLS socket whose handshake completed. */
export function tlsPeer(tls: TLSSocket): TlsPeer {
  return certificatePeer(tls.getPeerX509Certificate(), () => tls.getX509Certificate());
}

/** The peer that presents `x509` (`local`: this side's certificate, when there is one). */
export function certificatePeer(x509: X509Certificate | undefined, local: () => X509Certificate | undefined = () => undefined): TlsPeer {
  const san = x509?.subjectAltName;
  let sha: string | undefined;
  return {
    presented: x509 !== undefined,
    uriSans: sansOf(san, 'URI'),
    dnsSans: sansOf(san, 'DNS'),
    subject: x509 ? rfc2253(x509.subject) : '',
    localUriSans: () => sansOf(local()?.subjectAltName, 'URI'),
    sha256: () => (sha ??= x509 ? x509.fingerprint256.replaceAll(':', '').toLowerCase() : ''),
    pem: () => x509?.toString() ?? '',
    chainPem: () => chainOf(x509),
  };
}

function chainOf(leaf: X509Certificate | undefined): string {
  let out = '';
  const seen = new Set<string>();
  // Bounded by the set: a certificate never repeats, and issuerCertificate of a root is the root itself.
  for (let c = leaf; c && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    if (c !== leaf && c.issuer === c.subject) break;
    out += c.toString();
  }
  return out;
}
