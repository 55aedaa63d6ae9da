/**
 * The SDS secrets currently in force and the node:tls contexts made from
 * them. A context is built once per (transport socket, secret generation):
 * a rotated certificate reaches new connections at once while established
 * ones keep theirs — the hot swap Envoy does, without restarts or drops.
 */
import { createSecureContext, type ConnectionOptions, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { uriSans, type SecretPlan } from './secret.js';
import { parseSans } from './peer-identity.js';
import type { TlsPlan } from './tls-plan.js';

/** Every SAN of a peer certificate, without its type prefix (Envoy matches any SAN type). */
export function peerSans(cert: PeerCertificate | undefined): string[] {
  const s = cert?.subjectaltname;
  if (!s) return [];
  return s.split(', ').map((x) => x.slice(x.indexOf(':') + 1));
}

/** Whether a verified peer's SANs satisfy the plan's matchers (none configured: any peer). */
export function sanAllowed(plan: TlsPlan, cert: PeerCertificate | undefined): boolean {
  if (plan.sanMatchers.length === 0) return true;
  const sans = parseSans(cert?.subjectaltname);
  return sans.some(([type, v]) => plan.sanMatchers.some((m) => (m.type === undefined || m.type === type) && m.match(v)));
}

/** The peer's identity for logs and metrics: its first URI SAN (a SPIFFE id in a mesh). */
export function peerUriSan(cert: PeerCertificate | undefined): string {
  return uriSans(cert?.subjectaltname)[0] ?? '';
}

export class SecretStore {
  /** From the ADS stream (SDS over ADS). */
  readonly #secrets = new Map<string, SecretPlan>();
  /** From the proxy's certificate agent (Istio's sds-grpc: the workload certificate and the mesh roots). */
  readonly #agent = new Map<string, SecretPlan>();
  #generation = 0;
  readonly #contexts = new WeakMap<TlsPlan, { generation: number; ctx: SecureContext }>();

  /** Replaces the whole ADS set (the SDS subscription's current resources). */
  update(secrets: Iterable<SecretPlan>): void {
    this.#secrets.clear();
    for (const s of secrets) this.#secrets.set(s.name, s);
    this.#generation++;
  }

  /** Puts the agent's secrets in force (a rotation); names not given are withdrawn (an expired certificate is never presented). */
  setAgentSecrets(secrets: Iterable<SecretPlan>): void {
    this.#agent.clear();
    for (const s of secrets) this.#agent.set(s.name, s);
    this.#generation++;
  }

  /** The secrets in force, by name (admin /certs, /config_dump): the agent's first, as Envoy lists its SDS secrets. */
  all(): SecretPlan[] {
    const byName = new Map([...this.#secrets, ...this.#agent]);
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The names missing for a plan (a listener or cluster whose secrets have not arrived cannot do TLS yet). */
  missing(plan: TlsPlan): string[] {
    return [...plan.sdsNames.filter((n) => !this.#secrets.has(n)), ...plan.agentNames.filter((n) => !this.#agent.has(n))];
  }

  #secret(plan: TlsPlan, name: string | undefined): SecretPlan | undefined {
    if (name === undefined) return undefined;
    return plan.agentNames.includes(name) ? this.#agent.get(name) : this.#secrets.get(name);
  }

  /** The secure context for a plan with the current secrets, or undefined while one is missing or of the wrong kind. */
  context(plan: TlsPlan): SecureContext | undefined {
    const cached = this.#contexts.get(plan);
    if (cached && cached.generation === this.#generation) return cached.ctx;
    const cert = plan.inlineCert ?? this.#secret(plan, plan.certSecret);
    const ca = plan.inlineCa ?? this.#secret(plan, plan.caSecret);
    if (plan.certSecret !== undefined && cert?.kind !== 'certificate') return undefined;
    if (plan.caSecret !== undefined && ca?.kind !== 'validation') return undefined;
    const p = plan.params;
    const ctx = createSecureContext({
      minVersion: p.minVersion,
      maxVersion: p.maxVersion,
      ...(p.ciphers !== undefined ? { ciphers: p.ciphers } : {}),
      ...(p.ecdhCurve !== undefined ? { ecdhCurve: p.ecdhCurve } : {}),
      ...(cert?.kind === 'certificate' ? { cert: cert.chain, key: cert.key } : {}),
      ...(ca?.kind === 'validation' ? { ca: ca.ca } : {}),
    });
    this.#contexts.set(plan, { generation: this.#generation, ctx });
    return ctx;
  }

  /**
   * tls.connect options for an upstream: chain verified against the CA when
   * one is configured, then the SANs against the plan's matchers (replacing
   * hostname verification, as Envoy's match_subject_alt_names does).
   */
  clientOptions(plan: TlsPlan): ConnectionOptions | Error {
    const secureContext = this.context(plan);
    if (!secureContext) return Object.assign(new Error(`TLS secrets not ready: ${this.missing(plan).join(', ') || 'wrong secret kind'}`), { code: 'TRELLIS_TLS_SECRET_MISSING' });
    const verify = plan.caSecret !== undefined || plan.inlineCa !== undefined;
    return {
      secureContext,
      servername: plan.sni || undefined,
      ALPNProtocols: plan.alpn.length > 0 ? plan.alpn : undefined,
      rejectUnauthorized: verify,
      // node's own code for a certificate that is not the expected peer's.
      checkServerIdentity: (_host, cert) => (sanAllowed(plan, cert) ? undefined : Object.assign(
        new Error(`upstream certificate SANs [${peerSans(cert).join(', ')}] match none of the configured subject alt names`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })),
    };
  }
}

interface TlsHandle {
  verifyError?: () => (Error & { code?: string }) | null;
}

/**
 * The chain verification verdict for a server-side TLSSocket that no
 * tls.Server owns. OpenSSL verifies during the handshake and node:tls leaves
 * the verdict to the owner; tls.Server reads it exactly like this when it
 * sets `authorized` (lib/_tls_wrap.js onServerSocketSecure). A node without
 * the handle method fails closed.
 */
export function peerVerifyError(t: TLSSocket): Error | null {
  const h = (t as unknown as { _handle?: TlsHandle })._handle;
  if (typeof h?.verifyError !== 'function') return new Error('cannot read the TLS verification result from node:tls');
  return h.verifyError();
}
