/**
 * On-demand cluster discovery, Envoy's ODCDS (OdCdsApiImpl with the cluster
 * manager's ClusterDiscoveryManager): a request whose cluster the proxy has
 * not got asks for it here; the name is subscribed over the ADS stream on top
 * of the wildcard CDS subscription (xds-client `subscribeOnDemand`), and the
 * waiter is called back once, when every name it waits for is usable (the
 * cluster in service with its endpoints: the CDS → EDS walk does the rest),
 * reported absent by the server (removed_resources), or when the timeout
 * passes. One discovery per name at a time: requests for a name already
 * being discovered join it and share its timer (the first request's
 * timeout, as Envoy's per-name timer). A waiter that leaves (its client
 * disconnected) is dropped at once; its discovery runs on to its answer or
 * timeout (bounded), so that an answer still counts, and an absent name is
 * remembered. The subscription stays (Envoy never unsubscribes on-demand
 * names). A name the server reported absent is not discovered
 * again while it stays subscribed: the server pushes it if it comes to
 * exist, and answers nothing to a name subscribed twice — a request for it
 * goes on at once (503 NC) instead of waiting out the timeout each time.
 * Names that never arrived are bounded (`maxUnresolved`): a cluster_header
 * takes its name from the request, and every name asked stays subscribed on
 * the proxy and the control plane; past the bound a name not known is not
 * asked for (the request goes on: 503 NC), said once in the log.
 *
 * Counted as Envoy's ODCDS subscription is, under cluster_manager.odcds.:
 * update_attempt (a name asked for), update_success (the server answered
 * for it, present or absent), init_fetch_timeout (no answer in time).
 */
import { logger } from '../../log.js';
import type { ProxyStats } from '../telemetry/stats.js';
import type { ResourceType, ResourceWatcher } from '../xds-client/resource-type.js';

type Counters = Pick<ProxyStats, 'inc'>;

const log = logger('cluster');

export type DiscoveryStatus = 'available' | 'missing' | 'timeout';

/** The xDS client's part (XdsClient has it). */
export interface OnDemandSource {
  subscribeOnDemand(type: ResourceType, names: readonly string[]): 'requested' | 'unsupported';
  watch<T>(type: ResourceType<T>, name: string, w: ResourceWatcher<T>): () => void;
}

/** The cluster manager's part (ClusterManager has it). */
export interface ClusterView {
  usable(name: string): boolean;
  known(name: string): boolean;
  onUpdate(fn: () => void): () => void;
}

export interface DiscoveryHandle {
  /** The waiter left: it is never called back. */
  cancel(): void;
}

/** Names asked for that did not arrive (pending or absent) before unknown ones are no longer asked for. */
export const MAX_UNRESOLVED = 1024;

export const ODCDS_STATS = {
  attempt: 'cluster_manager.odcds.update_attempt',
  success: 'cluster_manager.odcds.update_success',
  timeout: 'cluster_manager.odcds.init_fetch_timeout',
} as const;

interface Waiter {
  remaining: Set<string>;
  /** The first name that did not become available decides (missing or timeout). */
  status: DiscoveryStatus;
  done: (status: DiscoveryStatus) => void;
}

interface Pending {
  /** Subscribed for this discovery (not a cluster that had arrived and waited for its endpoints). */
  asked: boolean;
  timer: NodeJS.Timeout;
  unwatch: () => void;
  waiters: Set<Waiter>;
}

export class ClusterDiscovery {
  readonly #source: OnDemandSource;
  readonly #clusters: ClusterView;
  readonly #type: ResourceType;
  readonly #counters: Counters;
  readonly #pending = new Map<string, Pending>();
  /** Reported absent by the server, still subscribed (until the cluster arrives). */
  readonly #absent = new Set<string>();
  readonly #maxUnresolved: number;
  #boundLogged = false;

  /** `type`: the CDS resource type the names are subscribed on. */
  constructor(source: OnDemandSource, clusters: ClusterView, type: ResourceType, counters: Counters, maxUnresolved = MAX_UNRESOLVED) {
    this.#source = source;
    this.#clusters = clusters;
    this.#type = type;
    this.#counters = counters;
    this.#maxUnresolved = maxUnresolved;
    clusters.onUpdate(() => this.#check());
  }

  /** Of `names`, those a request must wait for: not usable yet, not known to be absent, and within the bound. */
  missing(names: readonly string[]): string[] {
    return names.filter((n) => !this.#clusters.usable(n) && !this.#absent.has(n) && this.#mayAsk(n));
  }

  #mayAsk(name: string): boolean {
    if (this.#pending.has(name) || this.#clusters.known(name) || this.#pending.size + this.#absent.size < this.#maxUnresolved) return true;
    if (!this.#boundLogged) log.warn('on-demand cluster discovery: too many names never resolved; unknown ones are no longer asked for', { max: this.#maxUnresolved });
    this.#boundLogged = true;
    return false;
  }

  /** Names being discovered (admin and tests). */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Waits for `names` (what missing() returned). 'unsupported' when the ADS stream cannot subscribe on demand
   * (SotW): nothing is held then.
   */
  discover(names: readonly string[], timeoutMs: number, done: (status: DiscoveryStatus) => void): DiscoveryHandle | 'unsupported' {
    // A cluster that arrived but waits for its endpoints (or its first DNS answer) is not asked for again.
    const ask = names.filter((n) => !this.#pending.has(n) && !this.#clusters.known(n));
    if (ask.length > 0) {
      if (this.#source.subscribeOnDemand(this.#type, ask) === 'unsupported') return 'unsupported';
      for (let i = 0; i < ask.length; i++) this.#counters.inc(ODCDS_STATS.attempt);
      log.debug('on-demand cluster discovery', { clusters: ask });
    }
    const w: Waiter = { remaining: new Set(names), status: 'available', done };
    for (const n of names) this.#join(n, timeoutMs, ask.includes(n)).waiters.add(w);
    return { cancel: () => this.#leave(w) };
  }

  #join(name: string, timeoutMs: number, asked: boolean): Pending {
    const known = this.#pending.get(name);
    if (known) return known;
    const p: Pending = {
      asked,
      timer: setTimeout(() => this.#settle(name, 'timeout'), timeoutMs),
      unwatch: () => undefined,
      waiters: new Set(),
    };
    this.#pending.set(name, p);
    p.unwatch = this.#source.watch(this.#type, name, {
      onChanged: () => undefined,
      onError: () => undefined,
      onDoesNotExist: () => {
        this.#absent.add(name);
        this.#settle(name, 'missing');
      },
    });
    return p;
  }

  /** After a cluster or endpoint update: the names that became usable, and absent ones that arrived after all. */
  #check(): void {
    for (const name of this.#absent) if (this.#clusters.known(name)) this.#absent.delete(name);
    for (const name of [...this.#pending.keys()]) if (this.#clusters.usable(name)) this.#settle(name, 'available');
  }

  #settle(name: string, status: DiscoveryStatus): void {
    const p = this.#pending.get(name);
    if (!p) return;
    this.#pending.delete(name);
    clearTimeout(p.timer);
    p.unwatch();
    if (p.asked) this.#counters.inc(status === 'timeout' ? ODCDS_STATS.timeout : ODCDS_STATS.success);
    if (status !== 'available') log.debug('on-demand cluster not discovered', { cluster: name, status });
    for (const w of p.waiters) {
      w.remaining.delete(name);
      if (status !== 'available' && w.status === 'available') w.status = status;
      if (w.remaining.size === 0) w.done(w.status);
    }
  }

  #leave(w: Waiter): void {
    for (const name of w.remaining) this.#pending.get(name)?.waiters.delete(w);
    w.remaining.clear();
  }
}
