/**
 * The proxy's certificate-agent flags, with istio-agent's defaults: the CA at
 * the xDS host on 15012, the mesh root in /var/run/secrets/istio/root-cert.pem,
 * the workload token in /var/run/secrets/tokens/istio-token. Without a token
 * (none given and none at the default path) there is no agent — the proxy
 * then has only what ADS serves, as before — and it says so.
 */
import { existsSync } from 'node:fs';
import { TrellisError } from '../errors.js';
import { durationSeconds } from './flags.js';

export interface IdentityFlags {
  caAddress?: string;
  rootCert?: string;
  tokenFile?: string;
  trustDomain: string;
  certTtl?: string;
}

export const DEFAULT_ROOT_CERT = '/var/run/secrets/istio/root-cert.pem';
export const DEFAULT_TOKEN_FILE = '/var/run/secrets/tokens/istio-token';
const CA_PORT = 15012;

export interface IdentitySettings {
  caAddress: string;
  rootCertFile: string;
  tokenFile: string;
  trustDomain: string;
  ttlSeconds: number;
}

/** The agent's settings, or the reason there is none. Throws CLI_USAGE for a token file named but absent. */
export function identitySettings(f: IdentityFlags, xdsAddress: string): IdentitySettings | { off: string } {
  const tokenFile = f.tokenFile ?? DEFAULT_TOKEN_FILE;
  if (!existsSync(tokenFile)) {
    if (f.tokenFile !== undefined) throw new TrellisError('CLI_USAGE', `--token-file: ${tokenFile} does not exist`);
    return { off: `no workload token at ${tokenFile} (--token-file): no certificate agent, mTLS secrets only from ADS` };
  }
  const host = xdsAddress.slice(0, xdsAddress.lastIndexOf(':'));
  return {
    caAddress: f.caAddress ?? `${host}:${CA_PORT}`,
    rootCertFile: f.rootCert ?? DEFAULT_ROOT_CERT,
    tokenFile,
    trustDomain: f.trustDomain,
    ttlSeconds: f.certTtl === undefined ? 0 : durationSeconds('--cert-ttl', f.certTtl),
  };
}
