/**
 * Secrets as TLS credentials, read as istiod's credentials controller reads
 * them (pilot/pkg/credentials/kube): a certificate is `tls.crt` + `tls.key`
 * (type kubernetes.io/tls) or `cert` + `key` (a generic Secret); a CA is
 * `ca.crt` or `cacert`. `data` is base64, `stringData` plain text and wins
 * (the API server merges it over data on write). Only these keys are kept:
 * the model never holds a Secret's other values.
 */
import type { Secret } from '../../config/objects.js';

export interface TlsCredential {
  /** PEM certificate chain and its private key, when the Secret holds both. */
  readonly cert?: { chain: string; key: string };
  /** PEM trust bundle (a client CA for MUTUAL), when the Secret has one. */
  readonly ca?: string;
}

function value(s: Secret, key: string): string | undefined {
  const plain = s.stringData?.[key];
  if (plain !== undefined) return plain;
  const b64 = s.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

/** The credential a Secret holds; undefined when it holds none (an unrelated Secret). */
export function credentialOf(s: Secret): TlsCredential | undefined {
  const tls = { chain: value(s, 'tls.crt'), key: value(s, 'tls.key') };
  const generic = { chain: value(s, 'cert'), key: value(s, 'key') };
  // istiod tries the generic keys first.
  const pair = generic.chain !== undefined && generic.key !== undefined ? generic : tls.chain !== undefined && tls.key !== undefined ? tls : undefined;
  const ca = value(s, 'cacert') ?? value(s, 'ca.crt');
  if (pair === undefined && ca === undefined) return undefined;
  return { ...(pair ? { cert: { chain: pair.chain!, key: pair.key! } } : {}), ...(ca !== undefined ? { ca } : {}) };
}

/** Credentials by "namespace/name". */
export function indexCredentials(secrets: readonly Secret[]): Map<string, TlsCredential> {
  const out = new Map<string, TlsCredential>();
  for (const s of secrets) {
    const c = credentialOf(s);
    if (c) out.set(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, c);
  }
  return out;
}
