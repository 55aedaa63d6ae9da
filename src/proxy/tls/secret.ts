/**
 * SDS secrets (envoy.extensions.transport_sockets.tls.v3.Secret) compiled for
 * node:tls: a certificate chain with its private key, or a validation context
 * (trusted CA). PEM is checked at config time — a key that does not belong to
 * its certificate, or a CA that does not parse, is a NACK with a field path,
 * never a handshake failure later.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { DataSource } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { Secret } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { TlsCertificate, CertificateValidationContext } from '../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';

export type SecretPlan =
  | { kind: 'certificate'; name: string; chain: string; key: string; uriSans: string[] }
  | { kind: 'validation'; name: string; ca: string };

export type SecretResult = { ok: true; value: SecretPlan } | { ok: false; errors: string[] };

/** Envoy's DataSource: inline bytes or string, a file, or an environment variable. */
export function dataSource(ds: DataSource | undefined, path: string, errors: string[]): string | undefined {
  const s = ds?.specifier;
  switch (s?.case) {
    case 'inlineBytes': return Buffer.from(s.value).toString('utf8');
    case 'inlineString': return s.value;
    case 'filename':
      try {
        return readFileSync(s.value, 'utf8');
      } catch (err) {
        errors.push(`${path}.filename: cannot read ${s.value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        return undefined;
      }
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
