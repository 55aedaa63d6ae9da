import { TrellisError } from '../errors.js';
import type { ControlPlaneOptions } from '../controlplane/control-plane.js';
import { durationSeconds, parsePort } from './flags.js';

/** The controlplane's CA flags (all strings, as commander hands them over). */
export interface CaFlags {
  caDir?: string;
  caPort: string;
  certTtl: string;
  maxCertTtl: string;
  caKeyType: string;
  trustDomain: string;
}

/** The CA flags checked: port, lifetimes, key type (usage errors name the flag). */
export function caSettings(f: CaFlags): { port: number; defaultTtlSeconds: number; maxTtlSeconds: number; keyType: 'ec' | 'rsa' } {
  if (f.caKeyType !== 'ec' && f.caKeyType !== 'rsa') throw new TrellisError('CLI_USAGE', `--ca-key-type must be ec or rsa, not ${f.caKeyType}`);
  const port = parsePort('--ca-port', f.caPort);
  const defaultTtlSeconds = durationSeconds('--cert-ttl', f.certTtl);
  const maxTtlSeconds = durationSeconds('--max-cert-ttl', f.maxCertTtl);
  if (defaultTtlSeconds > maxTtlSeconds) throw new TrellisError('CLI_USAGE', `--cert-ttl ${f.certTtl} is above --max-cert-ttl ${f.maxCertTtl}`);
  return { port, defaultTtlSeconds, maxTtlSeconds, keyType: f.caKeyType };
}

/**
 * Opens the CA of `--ca-dir` (creating a root in an empty directory) and its
 * token key; undefined without --ca-dir. A CA directory it refuses (key file
 * readable by others, files missing, a certificate that does not chain)
 * throws, and the control plane exits with the reason.
 */
export async function openCaFromFlags(f: CaFlags): Promise<ControlPlaneOptions['ca']> {
  if (f.caDir === undefined) return undefined;
  const { port, defaultTtlSeconds, maxTtlSeconds, keyType } = caSettings(f);
  const [{ CertificateAuthority }, { LocalTokenIssuer }] = await Promise.all([import('../ca/authority.js'), import('../ca/token.js')]);
  const authority = CertificateAuthority.open({ dir: f.caDir, trustDomain: f.trustDomain, keyType, defaultTtlSeconds, maxTtlSeconds });
  return { authority, tokens: LocalTokenIssuer.open(f.caDir), port };
}
