/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's
 * leaderelection package does it, so that exactly one replica makes the
 * cluster-wide writes (the CA Secret when none exists, the webhook's
 * caBundle):
 *   - every `retryPeriodMs` each replica reads the Lease; a replica takes it
 *     when nobody holds it or the holder's record has not changed for a
 *     whole lease duration *as this replica observed it* (local clocks only:
 *     replicas' clocks may disagree, so the remote renewTime is never
 *     compared with our own time);
 *   - every write carries the resourceVersion read, so of two replicas
 *     taking an expired Lease at once one gets 409 Conflict and stays a
 *     follower;
 *   - the leader renews each round; if it cannot renew for `renewDeadlineMs`
 *     (shorter than the lease duration) it steps down before anyone else can
 *     take over, so two leaders never overlap by this replica's clock;
 *   - on stop, a leader releases the Lease (empty holder, 1 s duration) so a
 *     successor need not wait out the lease.
 * Defaults are client-go's: 15 s lease, 10 s renew deadline, 2 s retry.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from './kube-client.js';

export interface LeaderElectionOptions {
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** This replica (its pod name): written as holderIdentity. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** Go's metav1.MicroTime: RFC 3339 with exactly six fractional digits (kube-apiserver refuses milliseconds). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #o: Required<Omit<LeaderElectionOptions, 'log'>> & { log: Logger };
  readonly #path: string;
  readonly #listeners = new Set<(leader: boolean) => void>();
  #leader = false;
  /** The holder and renewTime last read, and when (our clock) they last changed. */
  #observed: { record: string; at: number } | undefined;
  #lastRenewed = 0;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = true;

  constructor(client: KubeClient, o: LeaderElectionOptions) {
    this.#client = client;
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...o };
    this.#path = `/apis/coordination.k8s.io/v1/namespaces/${o.namespace}/leases/${o.name}`;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** Called with true when this replica becomes the leader, false when it stops being one. */
  onChange(fn: (leader: boolean) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#tick();
  }

  /** Stops competing; a leader releases the Lease first. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
    if (!this.#leader) return;
    try {
      const lease = await this.#client.get<Lease>(this.#path);
      if (lease.spec?.holderIdentity === this.#o.identity) {
        const now = microTime(Date.now());
        await this.#client.put(this.#path, { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } });
      }
    } catch (err) {
      this.#o.log.warn('could not release the leader Lease; it expires by itself', { lease: this.#path, error: errorMessage(err) });
    }
    this.#set(false);
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#round = this.#tryAcquireOrRenew().finally(() => {
      this.#round = undefined;
      if (this.#stopped) return;
      this.#timer = setTimeout(() => this.#tick(), this.#o.retryPeriodMs);
    });
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const now = Date.now();
    try {
      const ok = await this.#attempt(now);
      if (ok) {
        this.#lastRenewed = now;
        this.#set(true);
      } else {
        this.#set(false);
      }
    } catch (err) {
      if (this.#leader && Date.now() - this.#lastRenewed > this.#o.renewDeadlineMs) {
        this.#o.log.warn('could not renew the leader Lease in time; stepping down', { lease: this.#path, error: errorMessage(err) });
        this.#set(false);
      } else if (!this.#leader) {
        this.#o.log.debug('leader election round failed', { lease: this.#path, error: errorMessage(err) });
      }
    }
  }

  /** One round: true when this replica holds the Lease afterwards. Throws on API errors other than a lost race. */
  async #attempt(now: number): Promise<boolean> {
    const me = this.#o.identity;
    const durationS = Math.ceil(this.#o.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await this.#client.get<Lease>(this.#path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const t = microTime(now);
      try {
        await this.#client.post(this.#path.replace(/\/[^/]+$/, ''), {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
          metadata: { name: this.#o.name, namespace: this.#o.namespace },
          spec: { holderIdentity: me, leaseDurationSeconds: durationS, acquireTime: t, renewTime: t, leaseTransitions: 0 },
        });
        return true;
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${spec.renewTime ?? ''}|${spec.leaseDurationSeconds ?? ''}`;
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    const heldByOther = holder !== '' && holder !== me;
    const leaseMs = (spec.leaseDurationSeconds ?? durationS) * 1000;
    if (heldByOther && this.#observed.at + leaseMs > now) return false;
    const t = microTime(now);
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: me,
      leaseDurationSeconds: durationS,
      renewTime: t,
      acquireTime: holder === me ? (spec.acquireTime ?? t) : t,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === me ? 0 : 1),
    };
    try {
      const written = await this.#client.put<Lease>(this.#path, { ...lease, spec: next });
      this.#observed = { record: `${me}|${written.spec?.renewTime ?? t}|${durationS}`, at: now };
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#o.log.info(leader ? 'became the leader' : 'no longer the leader', { lease: this.#path, identity: this.#o.identity });
    for (const fn of this.#listeners) {
      try {
        fn(leader);
      } catch (err) {
        this.#o.log.error('leader change listener threw', { error: errorMessage(err) });
      }
    }
  }
}
