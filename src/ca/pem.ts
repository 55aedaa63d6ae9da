/**
 * PEM (RFC 7468) in and out. Decoding is strict about what it accepts —
 * base64 alphabet, padding, a matching END label — because PEM arrives from
 * the network (CSRs) and from operators' files.
 */
import { TrellisError } from '../errors.js';

export interface PemBlock {
  label: string;
  der: Buffer;
}

const block = /-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n([A-Za-z0-9+/=\r\n\t ]*?)-----END ([A-Z0-9 ]{1,64})-----/g;

/** Every PEM block in `text`, in order; text between blocks is ignored, as openssl does. */
export function decodePem(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  block.lastIndex = 0;
  for (let m = block.exec(text); m !== null; m = block.exec(text)) {
    if (m[1] !== m[3]) throw new TrellisError('DER_MALFORMED', `PEM block BEGIN ${m[1]} ends with END ${m[3]}`);
    const b64 = m[2]!.replace(/\s+/g, '');
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new TrellisError('DER_MALFORMED', `PEM block ${m[1]}: not base64`);
    out.push({ label: m[1]!, der: Buffer.from(b64, 'base64') });
  }
  return out;
}

/** The DER of every block labelled `label` (e.g. all CERTIFICATEs of a bundle). */
export function pemBlocks(text: string, label: string): Buffer[] {
  return decodePem(text).filter((b) => b.label === label).map((b) => b.der);
}

/** One PEM block with 64-character lines and a final newline. */
export function encodePem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

export const certificatePem = (der: Buffer): string => encodePem('CERTIFICATE', der);
