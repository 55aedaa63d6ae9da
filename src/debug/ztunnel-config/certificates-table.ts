/**
 * istioctl ztunnel-config certificates' table (configdump/certificates.go):
 * one row per certificate of each identity's chain — Leaf first, then
 * Intermediate, the chain's last Root when the dump has no separate
 * rootCerts (ztunnel's older format) — and one "NA" row for an identity
 * without a certificate (Initializing, Unavailable). The serial is printed
 * in hex as istioctl does (%x of the decimal in the dump); VALID CERT is
 * whether `now` is inside the validity. Tabwriter padding 5. Pure.
 */
import type { Row } from '../format/table.js';
import type { ZtunnelCert, ZtunnelDump } from './dump.js';

export const CERTIFICATES_HEADER: Row = ['CERTIFICATE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'];
export const CERTIFICATES_PADDING = 5;

const orNA = (v: string | undefined) => (v ? v : 'NA');

function hexSerial(decimal: string | undefined): string {
  if (!decimal || !/^\d+$/.test(decimal)) return '<nil>';
  return BigInt(decimal).toString(16);
}

export function certValid(c: ZtunnelCert, now: number): boolean {
  const from = Date.parse(c.validFrom ?? '');
  const to = Date.parse(c.expirationTime ?? '');
  return Number.isFinite(from) && Number.isFinite(to) && now > from && now < to;
}

export function certificateRows(d: ZtunnelDump, now: number): Row[] {
  const rows: Row[] = [];
  for (const c of d.certificates) {
    const state = (c.state ?? '').includes('Unavailable') ? 'Unavailable' : c.state ?? '';
    const identity = c.identity ?? '';
    const chain = c.certChain ?? [];
    if (chain.length === 0) {
      rows.push([identity, 'NA', state, 'false', 'NA', 'NA', 'NA']);
      continue;
    }
    const legacy = (c.rootCerts ?? []).length === 0;
    const row = (type: string, cert: ZtunnelCert): Row => [identity, type, state, String(certValid(cert, now)), hexSerial(cert.serialNumber), orNA(cert.expirationTime), orNA(cert.validFrom)];
    chain.forEach((cert, i) => rows.push(row(i === 0 ? 'Leaf' : i === chain.length - 1 && legacy ? 'Root' : 'Intermediate', cert)));
    for (const cert of c.rootCerts ?? []) rows.push(row('Root', cert));
  }
  return rows;
}
