/**
 * The certificates panel from a proxy's admin /certs (Envoy's JSON): the
 * workload certificate's SPIFFE id, its NOT AFTER, and when rotation is
 * due. The proxy's certificate agent renews at DEFAULT_RENEW_AT of the
 * lifetime left when the certificate arrived, up to DEFAULT_RENEW_JITTER
 * earlier; arrival is not in /certs, so the lifetime is counted from
 * valid_from — CAs backdate it by minutes, which makes the due time shown a
 * little early, never late. Pure.
 */
import { DEFAULT_RENEW_AT, DEFAULT_RENEW_JITTER } from '../proxy/identity/cert-agent.js';
import type { CertRow } from './model.js';

interface CertsJson {
  certificates?: { cert_chain?: { subject_alt_names?: { uri?: string }[]; valid_from?: string; expiration_time?: string }[] }[];
}

/**
 * The workload certificate's row (the first cert_chain's leaf), or undefined
 * when /certs has none (no mTLS identity yet) or is not Envoy's JSON.
 * `trellis up`'s status reads its expiry from here too.
 */
export function certRow(pod: string, body: string): CertRow | undefined {
  let j: CertsJson;
  try {
    j = JSON.parse(body) as CertsJson;
  } catch {
    return undefined;
  }
  for (const c of j.certificates ?? []) {
    const leaf = c.cert_chain?.[0];
    if (!leaf) continue;
    const from = Date.parse(leaf.valid_from ?? '');
    const to = Date.parse(leaf.expiration_time ?? '');
    if (Number.isNaN(to)) continue;
    const spiffeId = leaf.subject_alt_names?.map((s) => s.uri).find((u) => u?.startsWith('spiffe://')) ?? '';
    const due = from + (to - from) * (DEFAULT_RENEW_AT - DEFAULT_RENEW_JITTER);
    return { pod, spiffeId, notAfter: new Date(to).toISOString(), rotationDue: Number.isNaN(due) ? null : new Date(due).toISOString() };
  }
  return undefined;
}
