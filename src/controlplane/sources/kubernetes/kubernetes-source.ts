/**
 * A ConfigSource over the Kubernetes API: one informer per watched kind
 * (informer.ts), and on every change — debounced — the full state rebuilt
 * from the informers' caches, as the directory source rebuilds it from its
 * files. A relist is therefore just another state: whatever changed while a
 * watch was down shows up in the list that follows, and a state is emitted
 * only when the accepted config or its problems differ.
 *
 * While an informer keeps failing for longer than `unavailableAfterMs`, the
 * state carries a CONFIG_SOURCE problem (the control plane's /ready then
 * answers 503, as for a vanished directory); the objects seen last stay in
 * service. Brief hiccups (a watch dropped and resumed) do not count.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { TrellisError } from '../../../errors.js';
import { logger } from '../../../log.js';
import type { KubeClient } from '../../../kube/kube-client.js';
import { Debouncer } from '../../debounce.js';
import type { ConfigSource, ConfigState } from '../source.js';
import type { ConfigProblem } from '../../../config/config-problem.js';
import { ObjectAcceptor, type Accepted } from './accept.js';
import { ResourceInformer, type InformerStats } from './informer.js';
import { collectionPath, resourceType, watchedResources, type WatchedResource } from './resources.js';

const log = logger('config');

export interface KubernetesSourceOptions {
  /** Quiet time before informer events become a state (default 50 ms; at most `debounceMaxMs`, default 1 s). */
  debounceMs?: number;
  debounceMaxMs?: number;
  /** Objects per list request (default 500, client-go's). */
  pageSize?: number;
  /** Watch timeoutSeconds; default a random 5–10 minutes, as client-go's reflector. */
  watchTimeoutSeconds?: () => number;
  /** Retry back-off after an error (default 800 ms doubling to 30 s, client-go's reflector). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** A watch silent for its timeoutSeconds plus this (default 30 s) is taken for a dead connection and restarted. */
  silentWatchGraceMs?: number;
  /** Shortest time between two watch starts of one kind (default 1 s). */
  minWatchIntervalMs?: number;
  /** How often a CRD that is not installed is looked for again (default 30 s). */
  notServedRetryMs?: number;
  /** How long an informer may fail before the source reports itself unavailable (default 10 s). */
  unavailableAfterMs?: number;
  /** start() rejects when the first lists are not in by then (default 120 s). */
  syncTimeoutMs?: number;
  resources?: readonly WatchedResource[];
}

export class KubernetesSource implements ConfigSource {
  readonly #informers: ResourceInformer[];
  readonly #acceptor = new ObjectAcceptor();
  readonly #debouncer: Debouncer;
  readonly #unavailableAfterMs: number;
  readonly #syncTimeoutMs: number;
  #onState: ((state: ConfigState) => void) | undefined;
  #revision = 0;
  #fingerprint = '';
  #logged = new Set<string>();
  #healthTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(kc: KubeConfig, client: KubeClient, opts: KubernetesSourceOptions = {}) {
    this.#unavailableAfterMs = opts.unavailableAfterMs ?? 10_000;
    this.#syncTimeoutMs = opts.syncTimeoutMs ?? 120_000;
    this.#debouncer = new Debouncer(opts.debounceMs ?? 50, opts.debounceMaxMs ?? 1000, () => this.#deliver());
    const informerOpts = {
      pageSize: opts.pageSize ?? 500,
      watchTimeoutSeconds: opts.watchTimeoutSeconds ?? (() => Math.floor(300 * (1 + Math.random()))),
      backoffInitialMs: opts.backoffInitialMs ?? 800,
      backoffMaxMs: opts.backoffMaxMs ?? 30_000,
      notServedRetryMs: opts.notServedRetryMs ?? 30_000,
      minWatchIntervalMs: opts.minWatchIntervalMs ?? 1000,
      silentWatchGraceMs: opts.silentWatchGraceMs ?? 30_000,
      onChange: () => this.#changed(),
      onHealth: () => this.#healthChanged(),
      log,
    };
    this.#informers = (opts.resources ?? watchedResources).map((r) => new ResourceInformer(kc, client, r, informerOpts));
  }

  /** Lists every kind, delivers revision 1, then watches. Rejects with CONFIG_SOURCE if the first lists do not all arrive in time. */
  async start(onState: (state: ConfigState) => void): Promise<void> {
    if (this.#onState) throw new TrellisError('CONFIG_SOURCE', 'the Kubernetes source is already started');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.#syncTimeoutMs)));
    const synced = await Promise.race([Promise.all(this.#informers.map((i) => i.start())), timeout]);
    clearTimeout(timer);
    if (synced === 'timeout') {
      const failing = this.#informers.filter((i) => i.failure()).map((i) => `${collectionPath(i.resource)}: ${i.failure()!.error}`);
      await this.stop();
      throw new TrellisError('CONFIG_SOURCE', `the Kubernetes API did not answer every list within ${this.#syncTimeoutMs} ms${failing.length ? ` (${failing.join('; ')})` : ''}`);
    }
    this.#onState = onState;
    this.#deliver();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#debouncer.cancel();
    clearTimeout(this.#healthTimer);
    for (const i of this.#informers) i.stop();
  }

  /** Per type (resourceType: the kind, `Kind.group` for the Gateway API): lists, watches, bookmarks, expirations and errors so far (tests and debugging read it). */
  stats(): Record<string, InformerStats> {
    return Object.fromEntries(this.#informers.map((i) => [resourceType(i.resource), { ...i.stats }]));
  }

  #changed(): void {
    if (this.#onState && !this.#stopped) this.#debouncer.trigger();
  }

  /** A failure is reported once it has lasted `unavailableAfterMs`; a recovery at once. */
  #healthChanged(): void {
    if (!this.#onState || this.#stopped) return;
    clearTimeout(this.#healthTimer);
    const since = this.#informers.map((i) => i.failure()?.since).filter((s): s is number => s !== undefined);
    if (since.length > 0) {
      const due = Math.min(...since) + this.#unavailableAfterMs - Date.now();
      if (due > 0) this.#healthTimer = setTimeout(() => this.#healthChanged(), due + 5);
    }
    this.#debouncer.trigger();
  }

  #sourceProblems(): ConfigProblem[] {
    const now = Date.now();
    return this.#informers.flatMap((i) => {
      const f = i.failure();
      if (!f || now - f.since < this.#unavailableAfterMs) return [];
      const path = collectionPath(i.resource);
      return [{ code: 'CONFIG_SOURCE' as const, file: `kubernetes:${path}`, line: 0,
        reason: `Kubernetes API: list/watch of ${path} failing for ${Math.round((now - f.since) / 1000)} s (${f.error}); serving the last objects seen until it works again` }];
    });
  }

  #deliver(): void {
    if (this.#stopped || !this.#onState) return;
    const accepted = this.#acceptor.accept(this.#informers.flatMap((i) => i.objects()));
    const sourceProblems = this.#sourceProblems();
    const fingerprint = fingerprintOf(accepted, sourceProblems);
    if (this.#revision > 0 && fingerprint === this.#fingerprint) return;
    this.#fingerprint = fingerprint;
    this.#logNewProblems(accepted.problems);
    this.#revision += 1;
    const state: ConfigState = { objects: accepted.objects, problems: [...sourceProblems, ...accepted.problems], revision: this.#revision };
    log.info('config state', { source: 'kubernetes', revision: state.revision, objects: state.objects.size, problems: state.problems.length });
    try {
      this.#onState(state);
    } catch (err) {
      log.error('config state listener threw', { revision: state.revision, error: String(err) });
    }
  }

  #logNewProblems(problems: readonly ConfigProblem[]): void {
    const current = new Set<string>();
    for (const p of problems) {
      const id = `${p.code}|${p.file}|${p.reason}`;
      current.add(id);
      if (!this.#logged.has(id)) log.warn(p.reason, { code: p.code, object: p.file });
    }
    this.#logged = current;
  }
}

/** Objects by key and resourceVersion, and the problems: cheaper than serialising every object on every event. */
function fingerprintOf(accepted: Accepted, sourceProblems: readonly ConfigProblem[]): string {
  const keys = [...accepted.objects].map(([k, o]) => `${k}@${o.metadata.resourceVersion ?? JSON.stringify(o)}`);
  // Source problems name how long the outage lasted: only which kinds fail counts, or every tick would be a new state.
  return JSON.stringify([keys, accepted.problems, sourceProblems.map((p) => p.file)]);
}
