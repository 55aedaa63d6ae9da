/**
 * Envoy's /certs: the certificates in use with serial, SANs and expiry (the
 * JSON of envoy.admin.v3.Certificates, snake_case as Envoy prints it). One
 * entry per SDS secret: a workload certificate under cert_chain, a trust
 * bundle under ca_cert. Private keys never appear.
 */
import { X509Certificate } from 'node:crypto';
import type { SecretPlan } from '../tls/secret.js';

interface CertificateDetails {
  path: string;
  serial_number: string;
  subject_alt_names: Array<Record<'uri' | 'dns' | 'ip_address' | 'email', string>>;
  days_until_expiration: string;
  valid_from: string;
  expiration_time: string;
}

const SAN_KIND: Record<string, 'uri' | 'dns' | 'ip_address' | 'email'> = { URI: 'uri', DNS: 'dns', 'IP Address': 'ip_address', email: 'email' };

/** Every certificate of a PEM bundle (a chain or a CA set), in order. */
function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function details(pem: string, path: string, now: number): CertificateDetails {
  const x = new X509Certificate(pem);
  const sans = (x.subjectAltName ?? '').split(', ').filter(Boolean).flatMap((s) => {
    const i = s.indexOf(':');
    const kind = SAN_KIND[s.slice(0, i)];
    return kind ? [{ [kind]: s.slice(i + 1) } as Record<'uri' | 'dns' | 'ip_address' | 'email', string>] : [];
  });
  const to = new Date(x.validTo).getTime();
  return {
    path,
    serial_number: x.serialNumber.toLowerCase(),
    subject_alt_names: sans,
    days_until_expiration: String(Math.max(0, Math.floor((to - now) / 86_400_000))),
    valid_from: new Date(x.validFrom).toISOString(),
    expiration_time: new Date(to).toISOString(),
  };
}

export function certsJson(secrets: Iterable<SecretPlan>, now = Date.now()): { certificates: Array<{ ca_cert: CertificateDetails[]; cert_chain: CertificateDetails[] }> } {
  const certificates = [];
  for (const s of secrets) {
    const path = `<inline sds: ${s.name}>`;
    if (s.kind === 'certificate') certificates.push({ ca_cert: [], cert_chain: pemBlocks(s.chain).map((p) => details(p, path, now)) });
    else certificates.push({ ca_cert: pemBlocks(s.ca).map((p) => details(p, path, now)), cert_chain: [] });
  }
  return { certificates };
}
