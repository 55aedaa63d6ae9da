/**
 * The certificates a node proxy holds: one per (namespace, service account)
 * with a pod on this node, asked for with the node proxy's own token and the
 * CA's ImpersonatedIdentity (the CA signs only for service accounts with a
 * pod on this node). Each is the proxy's certificate agent (renewal at 80 %
 * of the lifetime, back-off, withdrawn at expiry) for that identity. The
 * first pod of a service account starts it, the last one to go stops and
 * drops it; a service account with no pod here is never asked for.
 */
import { CertAgent, type CertAgentOptions } from '../../proxy/identity/cert-agent.js';
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

const noSecrets = { setAgentSecrets: () => undefined };
const key = (id: WorkloadIdentity) => `${id.namespace}/${id.serviceAccount}`;

export class WorkloadCertificates {
  readonly #settings: AgentSettings;
  readonly #slots = new Map<string, Slot>();
  /** Certificates asked for and not yet released (a test reads this through /config_dump). */
  readonly counters = { started: 0, stopped: 0 };

  constructor(settings: AgentSettings) {
    this.#settings = settings;
  }

  /** `holder` (a pod uid) needs `id`'s certificate: the request starts with the first holder. */
  acquire(id: WorkloadIdentity, holder: string): void {
    let slot = this.#slots.get(key(id));
    if (!slot) {
      const agent = new CertAgent({ ...this.#settings, secrets: noSecrets, impersonate: id });
      slot = { agent, holders: new Set() };
      this.#slots.set(key(id), slot);
      this.counters.started++;
      agent.start();
    }
    slot.holders.add(holder);
  }

  /** `holder` is gone; the last one stops the renewals and drops the certificate. */
  release(id: WorkloadIdentity, holder: string): void {
    const slot = this.#slots.get(key(id));
    if (!slot || !slot.holders.delete(holder) || slot.holders.size > 0) return;
    slot.agent.stop();
    this.#slots.delete(key(id));
    this.counters.stopped++;
  }

  /** The certificate in force for `id`, waiting up to `timeoutMs` for the first one. */
  async get(id: WorkloadIdentity, timeoutMs = 10_000): Promise<WorkloadCertificate> {
    const slot = this.#slots.get(key(id));
    if (!slot) throw new TrellisError('CA_UNAVAILABLE', `no pod of ${key(id)} on this node: no certificate is held for it`);
    if (!(await slot.agent.waitReady(timeoutMs)) || !slot.agent.current) {
      throw new TrellisError('CA_UNAVAILABLE', `no certificate for ${key(id)} within ${timeoutMs} ms`);
    }
    const c = slot.agent.current;
    return { cert: c.chainPem, key: c.keyPem, ca: c.rootsPem };
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
