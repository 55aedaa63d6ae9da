/**
 * The certificate authority of `trellis controlplane --ca-dir`: signs
 * workload CSRs for the identity the caller proved, and the control plane's
 * own serving certificates. All state is in the CA directory (ca-dir.ts);
 * this class holds the loaded key and certificates and applies istiod's
 * rules for lifetimes:
 *   - no requested TTL (or <= 0): the default (--cert-ttl, 24 h);
 *   - a requested TTL above the maximum (--max-cert-ttl, 90 days, istiod's
 *     MAX_WORKLOAD_CERT_TTL) is refused, not shortened, as istiod refuses it;
 *   - a leaf never outlives the certificate that signs it (clamped, as istiod).
 */
import { TrellisError } from '../errors.js';
import { logger, type Logger } from '../log.js';
import { CLOCK_SKEW_BACKDATE_MS, issueLeaf } from './certificate.js';
import { openCaDir, type CaMaterial } from './ca-dir.js';
import { parseCsr } from './csr.js';
import type { SubjectAltNames } from './extensions.js';
import type { KeyType } from './keys.js';
import { certificatePem } from './pem.js';
import { spiffeId, type WorkloadIdentity } from './spiffe.js';

export const DEFAULT_CERT_TTL_SECONDS = 24 * 3600;
export const DEFAULT_MAX_CERT_TTL_SECONDS = 90 * 24 * 3600;

export interface CertificateAuthorityOptions {
  /** The CA directory; created, with a new root, when empty. */
  dir: string;
  trustDomain?: string;
  /** Key type of a root created on first start: ECDSA P-256 (default) or RSA 2048. */
  keyType?: KeyType;
  defaultTtlSeconds?: number;
  maxTtlSeconds?: number;
  log?: Logger;
}

/** What a signing returns: PEM certificates, the leaf first, then the intermediates (no root). */
export interface SignedChain {
  certChain: string[];
}

export class CertificateAuthority {
  readonly trustDomain: string;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  /** True when this start created the root (first start on an empty directory). */
  readonly created: boolean;
  readonly #material: CaMaterial;
  readonly #intermediatesPem: string[];
  readonly #rootsPem: string[];

  private constructor(material: CaMaterial, trustDomain: string, defaultTtl: number, maxTtl: number) {
    this.#material = material;
    this.trustDomain = trustDomain;
    this.defaultTtlSeconds = defaultTtl;
    this.maxTtlSeconds = maxTtl;
    this.created = material.created;
    this.#intermediatesPem = material.intermediates.map(certificatePem);
    this.#rootsPem = material.roots.map(certificatePem);
  }

  /** Loads (or, in an empty directory, creates) the CA; throws CA_DIR with the reason when it will not. */
  static open(opts: CertificateAuthorityOptions): CertificateAuthority {
    const trustDomain = opts.trustDomain ?? 'cluster.local';
    checkTtls(opts);
    const material = openCaDir(opts.dir, { trustDomain, keyType: opts.keyType ?? 'ec' });
    return CertificateAuthority.fromMaterial(material, opts.dir, opts);
  }

  /** A CA over material loaded elsewhere (a Kubernetes Secret); `where` names it in the log. */
  static fromMaterial(material: CaMaterial, where: string, opts: Omit<CertificateAuthorityOptions, 'dir'>): CertificateAuthority {
    checkTtls(opts);
    const ca = new CertificateAuthority(material, opts.trustDomain ?? 'cluster.local', opts.defaultTtlSeconds ?? DEFAULT_CERT_TTL_SECONDS, opts.maxTtlSeconds ?? DEFAULT_MAX_CERT_TTL_SECONDS);
    (opts.log ?? logger('ca')).info(material.created ? 'created a new root CA' : 'loaded the CA', {
      from: where,
      roots: material.roots.length,
      intermediates: material.intermediates.length,
      signerExpires: material.signer.notAfter.toISOString(),
    });
    return ca;
  }

  /**
   * Signs a workload's CSR. Its URI SANs must be exactly the SPIFFE id of
   * `identity` (what the caller's token proved): CA_IDENTITY otherwise. The
   * leaf carries that id as its only SAN and the CSR's public key; nothing
   * else of the request is used. Throws CSR_INVALID, CA_IDENTITY or CA_TTL.
   */
  sign(csrPem: string, identity: WorkloadIdentity, requestedTtlSeconds?: number): SignedChain {
    const csr = parseCsr(csrPem);
    const expected = spiffeId(this.trustDomain, identity);
    if (csr.uriSans.length === 0) throw new TrellisError('CSR_INVALID', `the CSR carries no URI SAN; it must ask for ${expected}`);
    const foreign = csr.uriSans.filter((u) => u !== expected);
    if (foreign.length > 0 || csr.uriSans.length !== 1) {
      throw new TrellisError('CA_IDENTITY', `the CSR asks for ${csr.uriSans.join(', ')}, but the caller proved ${expected} only`);
    }
    return this.issue({ spki: csr.spki, keyType: csr.keyType, sans: { uris: [expected] } }, this.#ttl(requestedTtlSeconds));
  }

  /** Issues a leaf for an already checked key and names (the control plane's own serving certificate). */
  issue(req: { spki: Buffer; keyType: KeyType; sans: SubjectAltNames }, ttlSeconds: number): SignedChain {
    const now = Date.now();
    const signer = this.#material.signer;
    if (signer.notAfter.getTime() <= now) throw new TrellisError('CA_SIGN', `the signing certificate expired at ${signer.notAfter.toISOString()}`);
    const notAfter = Math.min(now + ttlSeconds * 1000, signer.notAfter.getTime());
    const leaf = issueLeaf({ ...req, notBefore: new Date(now - CLOCK_SKEW_BACKDATE_MS), notAfter: new Date(notAfter) }, signer);
    return { certChain: [certificatePem(leaf), ...this.#intermediatesPem] };
  }

  #ttl(requested: number | undefined): number {
    if (requested === undefined || !(requested > 0)) return this.defaultTtlSeconds;
    if (requested > this.maxTtlSeconds) {
      throw new TrellisError('CA_TTL', `requested TTL ${requested}s is greater than the max allowed TTL ${this.maxTtlSeconds}s`);
    }
    return requested;
  }

  /** The trust bundle: every root of root-cert.pem, concatenated PEM. */
  rootsPem(): string {
    return this.#rootsPem.join('');
  }

  /** The same roots, one PEM string each (how a CreateCertificate response ends). */
  rootCertificates(): readonly string[] {
    return this.#rootsPem;
  }
}

function checkTtls(opts: { defaultTtlSeconds?: number; maxTtlSeconds?: number }): void {
  const defaultTtl = opts.defaultTtlSeconds ?? DEFAULT_CERT_TTL_SECONDS;
  const maxTtl = opts.maxTtlSeconds ?? DEFAULT_MAX_CERT_TTL_SECONDS;
  if (!(defaultTtl > 0) || !(maxTtl > 0)) throw new TrellisError('CA_TTL', 'certificate lifetimes must be positive');
  if (defaultTtl > maxTtl) throw new TrellisError('CA_TTL', `the default certificate TTL (${defaultTtl}s) is above the maximum (${maxTtl}s)`);
}
