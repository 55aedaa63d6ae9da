/**
 * The certificates a node proxy holds: one per (namespace, service account)
 * with a pod on this node, asked for with the node proxy's own token and the
 * CA's ImpersonatedIdentity (the CA signs only for service accounts with a
 * pod on this node). Each is the proxy's certificate agent (renewal at 80 %
 * of the lifetime, back-off, withdrawn at expiry) for that identity. The
 * first pod of a service account starts it, the last one to go stops and
 * drops it; a service account with no pod here is never asked for.
 */
import { CertAgent, type AgentCertificate, type CertAgentOptions } from '../../proxy/identity/cert-agent.js';
import type { WorkloadIdentity } from '../../ca/spiffe.js';
import { TrellisError } from '../../errors.js';
import type { WorkloadCertificate } from '../hbone/workload-tls.js';

export type AgentSettings = Omit<CertAgentOptions, 'secrets' | 'impersonate'>;

interface Slot {
  agent: CertAgent;
  holders: Set<string>;
}

/** One identity's state, as ztunnel's /config_dump lists certificates. */
export interface CertificateStatus {
  identity: string;
  state: 'Available' | 'Initializing';
  pods: string[];
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  chainPem?: string;
  rootsPem?: string;
}

/** A renewed certificate of `id`, now in force (the first one too). */
export type RenewalListener = (id: WorkloadIdentity, certificate: WorkloadCertificate) => void;
const key = (id: WorkloadIdentity) => `${id.namespace}/${id.serviceAccount}`;

const toWorkloadCertificate = (c: AgentCertificate): WorkloadCertificate => ({ cert: c.chainPem, key: c.keyPem, ca: c.rootsPem });

export class WorkloadCertificates {
  readonly #settings: AgentSettings;
  readonly #slots = new Map<string, Slot>();
  /** Certificates asked for and not yet released (a test reads this through /config_dump). */
  readonly counters = { started: 0, stopped: 0 };
  readonly #listeners: RenewalListener[] = [];

  constructor(settings: AgentSettings) {
    this.#settings = settings;
  }

  /** `holder` (a pod uid) needs `id`'s certificate: the request starts with the first holder. */
  acquire(id: WorkloadIdentity, holder: string): void {
    let slot = this.#slots.get(key(id));
    if (!slot) {
      // The agent calls its sink once a certificate is in force (current is set by then), and with nothing at expiry.
      const agent: CertAgent = new CertAgent({ ...this.#settings, impersonate: id, secrets: { setAgentSecrets: () => this.#renewed(id, agent) } });
      slot = { agent, holders: new Set() };
      this.#slots.set(key(id), slot);
      this.counters.started++;
      agent.start();
    }
    slot.holders.add(holder);
  }

  /** Calls `listener` with each certificate that comes into force (servers holding the old one swap it). */
  onRenewed(listener: RenewalListener): void {
    this.#listeners.push(listener);
  }

  #renewed(id: WorkloadIdentity, agent: CertAgent): void {
    if (!agent.current) return;
    const c = toWorkloadCertificate(agent.current);
    for (const l of this.#listeners) l(id, c);
  }

  /** `holder` is gone; the last one stops the renewals and drops the certificate. */
  release(id: WorkloadIdentity, holder: string): void {
    const slot = this.#slots.get(key(id));
    if (!slot || !slot.holders.delete(holder) || slot.holders.size > 0) return;
    slot.agent.stop();
    this.#slots.delete(key(id));
    this.counters.stopped++;
  }

  /** The certificate in force for `id` now, if any (what the last renewal announced). */
  current(id: WorkloadIdentity): WorkloadCertificate | undefined {
    const c = this.#slots.get(key(id))?.agent.current;
    return c && toWorkloadCertificate(c);
  }

  /** The certificate in force for `id`, waiting up to `timeoutMs` for the first one. */
  async get(id: WorkloadIdentity, timeoutMs = 10_000): Promise<WorkloadCertificate> {
    const slot = this.#slots.get(key(id));
    if (!slot) throw new TrellisError('CA_UNAVAILABLE', `no pod of ${key(id)} on this node: no certificate is held for it`);
    const c = (await slot.agent.waitReady(timeoutMs)) ? this.current(id) : undefined;
    if (!c) throw new TrellisError('CA_UNAVAILABLE', `no certificate for ${key(id)} within ${timeoutMs} ms`);
    return c;
  }

  list(trustDomain: string): CertificateStatus[] {
    return [...this.#slots.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, s]) => {
      const [ns, sa] = k.split('/');
      const c = s.agent.current;
      const identity = `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;
      if (!c) return { identity, state: 'Initializing', pods: [...s.holders].sort() };
      return { identity, state: 'Available', pods: [...s.holders].sort(), serial: c.serial, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), chainPem: c.chainPem, rootsPem: c.rootsPem };
    });
  }

  close(): void {
    for (const s of this.#slots.values()) s.agent.stop();
    this.#slots.clear();
  }
}
