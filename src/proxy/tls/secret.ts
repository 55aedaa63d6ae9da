/**
 * SDS secrets (envoy.extensions.transport_sockets.tls.v3.Secret) compiled for
 * node:tls: a certificate chain with its private key, or a validation context
 * (trusted CA). PEM is checked at config time — a key that does not belong to
 * its certificate, or a CA that does not parse, is a NACK with a field path,
 * never a handshake failure later.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { clip } from '../../clip.js';
import type { DataSource } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { Secret } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { TlsCertificate, CertificateValidationContext } from '../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';

export type SecretPlan =
  | { kind: 'certificate'; name: string; chain: string; key: string; uriSans: string[] }
  | { kind: 'validation'; name: string; ca: string };

export type SecretResult = { ok: true; value: SecretPlan } | { ok: false; errors: string[] };

/** Certificates and CA bundles are kilobytes; the system's CA bundle is a few hundred. */
const DATA_FILE_MAX = 4 * 1024 * 1024;

/**
 * A DataSource file, read without blocking the event loop on what is not a
 * file. As Envoy (filesystem_impl.cc, illegalPath): nothing under /dev (but
 * /dev/fd/), /sys or /proc once symlinks are resolved. Then only a regular
 * file of at most DATA_FILE_MAX bytes: /dev/zero would never end, and a FIFO
 * would block the open itself, hence O_NONBLOCK.
 */
function readDataFile(file: string, path: string, errors: string[]): string | undefined {
  const shown = clip(file, 200);
  let fd: number | undefined;
  try {
    const real = realpathSync(file);
    if (!file.startsWith('/dev/fd/') && /^\/(dev|sys|proc)(\/|$)/.test(real)) {
      errors.push(`${path}: ${shown} is refused (files under /dev, /sys and /proc are not read, as in Envoy)`);
      return undefined;
    }
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) errors.push(`${path}: ${shown} is not a regular file`);
    else if (st.size > DATA_FILE_MAX) errors.push(`${path}: ${shown} is ${st.size} bytes (at most ${DATA_FILE_MAX})`);
    else return readFileSync(fd, 'utf8');
    return undefined;
  } catch (err) {
    errors.push(`${path}: cannot read ${shown}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Envoy's DataSource: inline bytes or string, a file, or an environment variable. */
export function dataSource(ds: DataSource | undefined, path: string, errors: string[]): string | undefined {
  const s = ds?.specifier;
  switch (s?.case) {
    case 'inlineBytes': return Buffer.from(s.value).toString('utf8');
    case 'inlineString': return s.value;
    case 'filename': return readDataFile(s.value, `${path}.filename`, errors);
    case 'environmentVariable': {
      const v = process.env[s.value];
      if (v === undefined) errors.push(`${path}.environmentVariable: ${s.value} is not set`);
      return v;
    }
    default:
      errors.push(`${path}: missing`);
      return undefined;
  }
}

/** The URI SANs of a certificate ("URI:spiffe://..., DNS:..." in node's rendering). */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName.split(', ').filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
}

/** Certificate chain and key, checked to parse and to belong together. */
export function compileCertificate(c: TlsCertificate, name: string, path: string, errors: string[]): SecretPlan | undefined {
  const chain = dataSource(c.certificateChain, `${path}.certificateChain`, errors);
  const key = dataSource(c.privateKey, `${path}.privateKey`, errors);
  if (chain === undefined || key === undefined) return undefined;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chain);
  } catch (err) {
    errors.push(`${path}.certificateChain: not a PEM certificate: ${(err as Error).message}`);
    return undefined;
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) {
      errors.push(`${path}.privateKey: does not match the certificate's public key`);
      return undefined;
    }
  } catch (err) {
    errors.push(`${path}.privateKey: not a PEM private key: ${(err as Error).message}`);
    return undefined;
  }
  return { kind: 'certificate', name, chain, key, uriSans: uriSans(leaf.subjectAltName) };
}

/** Trusted CA certificates of a validation context. */
export function compileValidation(v: CertificateValidationContext, name: string, path: string, errors: string[]): SecretPlan | undefined {
  const ca = dataSource(v.trustedCa, `${path}.trustedCa`, errors);
  if (ca === undefined) return undefined;
  try {
    new X509Certificate(ca);
  } catch (err) {
    errors.push(`${path}.trustedCa: not a PEM certificate: ${(err as Error).message}`);
    return undefined;
  }
  return { kind: 'validation', name, ca };
}

export function compileSecret(s: Secret): SecretResult {
  const errors: string[] = [];
  if (!s.name) errors.push('name: missing');
  const t = s.type;
  let plan: SecretPlan | undefined;
  if (t.case === 'tlsCertificate') plan = compileCertificate(t.value, s.name, 'tlsCertificate', errors);
  else if (t.case === 'validationContext') plan = compileValidation(t.value, s.name, 'validationContext', errors);
  else errors.push(`type: unsupported or missing (${t.case ?? 'unset'})`);
  return errors.length > 0 || !plan ? { ok: false, errors } : { ok: true, value: plan };
}
