/**
 * istioctl proxy-config secret: RESOURCE NAME, TYPE, STATUS, VALID CERT,
 * SERIAL NUMBER, NOT AFTER, NOT BEFORE, one row per SDS secret, from the
 * first certificate of its chain (a workload certificate: "Cert Chain") or
 * of its trust bundle ("CA"). A TRUST DOMAIN column is added only when every
 * secret's trust domain is known (istioctl's rule: federated bundles).
 */
import { X509Certificate } from 'node:crypto';
import type { DataSource } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { Row } from '../format/table.js';
import type { DumpedSecret } from './dump.js';

export interface SecretItem {
  name: string;
  state: string;
  type: string;
  valid: boolean;
  serialNumber: string;
  notAfter: string;
  notBefore: string;
  trustDomain: string;
}

export const SECRETS_HEADER: Row = ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'];

function inlineText(d: DataSource | undefined): string {
  const s = d?.specifier;
  if (s?.case === 'inlineBytes') return Buffer.from(s.value).toString('utf8');
  if (s?.case === 'inlineString') return s.value;
  return '';
}

function pemOf(secret: DumpedSecret['secret']): string {
  const t = secret?.type;
  if (t?.case === 'tlsCertificate') return inlineText(t.value.certificateChain);
  if (t?.case === 'validationContext') return inlineText(t.value.trustedCa);
  return '';
}

/** Go's time.Format(RFC3339) of a UTC time: no fractional seconds. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function secretItem(s: DumpedSecret, now = Date.now()): SecretItem {
  const item: SecretItem = { name: s.name, state: s.state, type: '', valid: false, serialNumber: '', notAfter: '', notBefore: '', trustDomain: '' };
  const pem = pemOf(s.secret).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0];
  if (!pem) return item;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return item;
  }
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const spiffe = /URI:spiffe:\/\/([^/,\s]+)/.exec(cert.subjectAltName ?? '');
  return {
    ...item,
    type: cert.ca ? 'CA' : 'Cert Chain',
    valid: now > from.getTime() && now < to.getTime(),
    serialNumber: cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, '').padStart(32, '0'),
    notAfter: rfc3339(to),
    notBefore: rfc3339(from),
    trustDomain: spiffe?.[1] ?? '',
  };
}

/** The header and rows; with `named`, names read "secret/NAME" (proxy-config all). */
export function secretTable(secrets: readonly DumpedSecret[], now = Date.now(), named = false): Row[] {
  const items = secrets.map((s) => secretItem(s, now));
  const withDomain = items.length > 0 && items.every((i) => i.trustDomain !== '');
  const header = withDomain ? [...SECRETS_HEADER, 'TRUST DOMAIN'] : SECRETS_HEADER;
  const rows = items.map((i) => {
    const row = [named ? `secret/${i.name}` : i.name, i.type, i.state, String(i.valid), i.serialNumber, i.notAfter, i.notBefore];
    return withDomain ? [...row, i.trustDomain] : row;
  });
  return [header, ...rows];
}
