/**
 * The proxy's certificate agent — istio-agent's SDS server, in process. It
 * makes its own key (the private key never leaves the pod), asks the CA for a
 * certificate with the workload's token, and puts it in force as the secrets
 * `default` and `ROOTCA` that Istio's config reads from the agent
 * ("sds-grpc"). Renewal starts at a jittered fraction of the lifetime (80 %
 * by default); a new certificate reaches new connections at once, while
 * established ones keep theirs (tls/secret-store.ts). When the CA cannot be
 * reached it retries with back-off and keeps the valid certificate — until
 * that expires: then the secrets are withdrawn, so TLS fails closed rather
 * than presenting an expired certificate.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { logger } from '../../log.js';
import { errorMessage } from '../../errors.js';
import { createCsr } from '../../ca/csr.js';
import { generatePrivateKey, privateKeyPem, type KeyType } from '../../ca/keys.js';
import { pemBlocks, certificatePem } from '../../ca/pem.js';
import { spiffeId, type WorkloadIdentity } from '../../ca/spiffe.js';
import { IMPERSONATED_IDENTITY } from '../../ca/impersonation/node-authorizer.js';
import type { SecretStore } from '../tls/secret-store.js';
import { Backoff } from '../xds-client/backoff.js';
import { createCertificate } from './ca-client.js';
import { checkIssuedChain, type IssuedChain } from './issued-chain.js';
import { tokenIdentity } from './token-identity.js';

const log = logger('identity');

/** Istio's SDS resource names for the workload certificate and the trust bundle. */
export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';
/** Renewal starts at this fraction of the lifetime left on arrival, unless CertAgentOptions.renewAt says otherwise. */
export const DEFAULT_RENEW_AT = 0.8;
/** Renewal starts up to this fraction earlier, at random, unless CertAgentOptions.jitter says otherwise. */
export const DEFAULT_RENEW_JITTER = 0.05;

export interface CertAgentOptions {
  caAddress: string;
  rootCertFile: string;
  tokenFile: string;
  trustDomain: string;
  /** Where the certificate goes: the proxy's secret store, or a node proxy's per-identity slot. */
  secrets: Pick<SecretStore, 'setAgentSecrets'>;
  /**
   * A node proxy's request for another workload's identity with its own token (the CA's
   * ImpersonatedIdentity); absent: the token's own identity.
   */
  impersonate?: WorkloadIdentity;
  /** Requested lifetime in seconds; 0 = the CA's default (24 h in Trellis and istiod). */
  ttlSeconds?: number;
  /** Fraction of the lifetime after which renewal starts (Istio's SECRET_GRACE_PERIOD_RATIO complement). */
  renewAt?: number;
  /** Renewal starts up to this fraction of the lifetime earlier, at random: a fleet does not renew in one burst. */
  jitter?: number;
  keyType?: KeyType;
  callTimeoutMs?: number;
  backoff?: { baseMs: number; maxMs: number };
}

/** The certificate in force, for the agent's other users (ADS over mTLS). */
export interface AgentCertificate extends IssuedChain {
  keyPem: string;
}

export class CertAgent {
  readonly #o: CertAgentOptions;
  readonly #backoff: Backoff;
  #current: AgentCertificate | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #waiters: Array<() => void> = [];
  /** Renewals that succeeded, and attempts that failed (admin /stats). */
  readonly counters = { issued: 0, failed: 0 };

  constructor(o: CertAgentOptions) {
    this.#o = o;
    this.#backoff = new Backoff(o.backoff?.baseMs ?? 1000, o.backoff?.maxMs ?? 30_000);
  }

  get current(): AgentCertificate | undefined {
    return this.#current;
  }

  start(): void {
    void this.#renew();
  }

  /** Resolves true once a certificate is in force, false after `timeoutMs` without one. */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.#current) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); resolve(true); };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(done);
    });
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#expiryTimer);
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    try {
      const issued = await this.#fetch();
      if (this.#stopped) return;
      this.#install(issued);
      this.#backoff.reset();
      this.counters.issued++;
      this.#schedule(this.#renewalDelay(issued));
    } catch (err) {
      this.counters.failed++;
      const delay = this.#backoff.next();
      log.warn('certificate request failed; retrying', { error: errorMessage(err), retryInMs: delay, validUntil: this.#current?.notAfter.toISOString() });
      this.#schedule(delay);
    }
  }

  async #fetch(): Promise<AgentCertificate> {
    const [token, rootsPem] = await Promise.all([readFile(this.#o.tokenFile, 'utf8'), readFile(this.#o.rootCertFile, 'utf8')]);
    const id = spiffeId(this.#o.trustDomain, this.#o.impersonate ?? tokenIdentity(token));
    const key: KeyObject = generatePrivateKey(this.#o.keyType ?? 'ec');
    const chain = await createCertificate({
      address: this.#o.caAddress,
      trustedRoots: rootsPem,
      token: token.trim(),
      csrPem: createCsr(key, id),
      ttlSeconds: this.#o.ttlSeconds ?? 0,
      timeoutMs: this.#o.callTimeoutMs ?? 10_000,
      ...(this.#o.impersonate ? { metadata: { [IMPERSONATED_IDENTITY]: id } } : {}),
    });
    const trusted = pemBlocks(rootsPem, 'CERTIFICATE').map((der) => new X509Certificate(certificatePem(der)));
    return { ...checkIssuedChain(chain, key, id, trusted), keyPem: privateKeyPem(key) };
  }

  #install(c: AgentCertificate): void {
    this.#current = c;
    this.#o.secrets.setAgentSecrets([
      { kind: 'certificate', name: WORKLOAD_SECRET, chain: c.chainPem, key: c.keyPem, uriSans: [c.spiffeId] },
      { kind: 'validation', name: ROOT_SECRET, ca: c.rootsPem },
    ]);
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = setTimeout(() => this.#expire(c), Math.max(0, c.notAfter.getTime() - Date.now()));
    log.info('certificate in force', { spiffeId: c.spiffeId, serial: c.serial, notAfter: c.notAfter.toISOString() });
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Never present an expired certificate: without a renewal in time, TLS that needs it fails closed. */
  #expire(c: AgentCertificate): void {
    if (this.#current !== c) return;
    this.#current = undefined;
    this.#o.secrets.setAgentSecrets([]);
    log.error('certificate expired before it could be renewed; mTLS fails closed until the CA answers', { spiffeId: c.spiffeId, serial: c.serial });
  }

  /**
   * When to renew: at the fraction of the lifetime left when the certificate
   * arrived (minus jitter). Counted from its arrival, not its notBefore: CAs
   * backdate notBefore for clock skew (ours and istiod's by minutes), which
   * would make a short lifetime look long.
   */
  #renewalDelay(c: AgentCertificate): number {
    const left = c.notAfter.getTime() - Date.now();
    const fraction = (this.#o.renewAt ?? DEFAULT_RENEW_AT) - Math.random() * (this.#o.jitter ?? DEFAULT_RENEW_JITTER);
    return Math.max(0, left * fraction);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#renewTimer);
    // Timers beyond 2^31-1 ms fire at once in Node: capped (a renewal that early does no harm).
    this.#renewTimer = setTimeout(() => void this.#renew(), Math.min(ms, 2 ** 31 - 1));
  }
}
