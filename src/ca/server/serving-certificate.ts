/**
 * The control plane's own certificate for its TLS port, issued by its own CA
 * (as istiod's "istiod DNS certificate" is): DNS names a workload may dial,
 * the bind address, a fresh P-256 key held only in memory. Renewed at 80 %
 * of its lifetime; a failed renewal is retried every few seconds and the
 * current certificate stays in service meanwhile.
 */
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { CertificateAuthority } from '../authority.js';
import { readCertificate } from '../certificate-reader.js';
import { generatePrivateKey, privateKeyPem, spkiOf } from '../keys.js';
import { pemBlocks } from '../pem.js';

export interface ServingKeyPair {
  /** PEM: the leaf, then intermediates. */
  certChain: string;
  privateKey: string;
  notAfter: Date;
}

const RENEW_AT = 0.8;
const RETRY_MS = 5_000;

/**
 * The names istiod's serving certificate answers to (its Service `istiod` in
 * the control plane's namespace, istio-system unless installed elsewhere),
 * plus Trellis's and the bind address.
 */
export function servingNames(bind: string, domainSuffix: string, namespace = 'istio-system'): { dnsNames: string[]; ips: string[] } {
  return namesWithBind(bind, [`istiod.${namespace}.svc`, `istiod.${namespace}.svc.${domainSuffix}`, 'trellis-controlplane', 'localhost']);
}

/** `dnsNames` plus the bind address: its IP (loopback for a wildcard bind, where local clients dial 127.0.0.1 or ::1), or its host name. */
export function namesWithBind(bind: string, dnsNames: readonly string[]): { dnsNames: string[]; ips: string[] } {
  const names = [...new Set(dnsNames)];
  const unspecified = bind === '0.0.0.0' || bind === '::';
  const ips = unspecified ? ['127.0.0.1', '::1'] : isIP(bind) ? [bind] : [];
  if (!unspecified && !isIP(bind) && !names.includes(bind)) names.push(bind);
  return { dnsNames: names, ips };
}

export class ServingCertificate {
  readonly #ca: CertificateAuthority;
  readonly #names: { dnsNames: string[]; ips: string[] };
  readonly #log: Logger;
  readonly #onRenew: (kp: ServingKeyPair) => void;
  #current: ServingKeyPair;
  #timer: NodeJS.Timeout | undefined;

  constructor(ca: CertificateAuthority, names: { dnsNames: string[]; ips: string[] }, log: Logger, onRenew: (kp: ServingKeyPair) => void) {
    this.#ca = ca;
    this.#names = names;
    this.#log = log;
    this.#onRenew = onRenew;
    this.#current = this.#issue();
    this.#schedule(this.#renewDelay());
  }

  get current(): ServingKeyPair {
    return this.#current;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #issue(): ServingKeyPair {
    const key: KeyObject = generatePrivateKey('ec');
    const chain = this.#ca.issue({ spki: spkiOf(key), keyType: 'ec', sans: this.#names }, this.#ca.defaultTtlSeconds).certChain;
    const notAfter = readCertificate(pemBlocks(chain[0]!, 'CERTIFICATE')[0]!).notAfter;
    return { certChain: chain.join(''), privateKey: privateKeyPem(key), notAfter };
  }

  #renewDelay(): number {
    return Math.max(1000, (this.#current.notAfter.getTime() - Date.now()) * RENEW_AT);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => this.#renew(), ms);
    this.#timer.unref();
  }

  #renew(): void {
    try {
      this.#current = this.#issue();
      this.#onRenew(this.#current);
      this.#log.info('renewed the serving certificate of the TLS port', { notAfter: this.#current.notAfter.toISOString() });
      this.#schedule(this.#renewDelay());
    } catch (err) {
      this.#log.error('cannot renew the serving certificate; retrying', { error: errorMessage(err), retryMs: RETRY_MS });
      this.#schedule(RETRY_MS);
    }
  }
}
