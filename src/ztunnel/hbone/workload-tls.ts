/**
 * The TLS both HBONE ends speak: TLS 1.3 only, ALPN h2, mutual (each side
 * presents its workload certificate and verifies the other's chain against
 * the mesh CA). The SPIFFE checks node does not make are in spiffe-peer.ts.
 */
import type { SecureContextOptions } from 'node:tls';

/** A workload's certificate chain and key and the CA bundle it trusts, all PEM. */
export interface WorkloadCertificate {
  cert: string;
  key: string;
  ca: string;
}

export function workloadTlsOptions(w: WorkloadCertificate): SecureContextOptions & { ALPNProtocols: string[] } {
  return { cert: w.cert, key: w.key, ca: w.ca, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ALPNProtocols: ['h2'] };
}
