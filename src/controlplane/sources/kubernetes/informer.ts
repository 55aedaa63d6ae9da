/**
 * One watched collection: @kubernetes/client-node's ListWatch (list, then
 * watch from the list's resourceVersion; a watch that ends normally resumes
 * from the last resourceVersion seen; 410 Gone — as an HTTP status or as an
 * ERROR event with code 410 — clears it, so the next round lists again and
 * the cache is replaced) with what client-go's reflector adds and the
 * JavaScript client leaves to its callers:
 *   - lists in pages (`limit`/`continue`), a whole list again if a continue
 *     token expired (client-go's pager does the same);
 *   - watches ask for bookmarks and end themselves after timeoutSeconds, so
 *     a resumed watch starts from a recent resourceVersion;
 *   - after an error ListWatch stops for good: it is restarted here, with
 *     exponential back-off and jitter — except a connected watch cut
 *     mid-stream, which is routine and resumes at once;
 *   - a watch that has gone silent past its own timeout (a dead TCP path the
 *     server can no longer close) is aborted and restarted;
 *   - a CRD that is not installed (404) is an empty collection, retried
 *     slowly so that installing the CRDs later needs no restart.
 */
import { ListWatch, Watch, type KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { isGone, isNotFound, type KubeClient } from '../../../kube/kube-client.js';
import { apiVersionOf, collectionPath, type WatchedResource } from './resources.js';

/** An object as the API server sends it (kind and apiVersion filled in when a list left them out). */
export interface RawObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [field: string]: unknown;
}

interface RawList {
  metadata?: { resourceVersion?: string; continue?: string };
  items: RawObject[];
}

export interface InformerStats {
  /** Lists completed (the first one, then one per relist). */
  lists: number;
  /** Watches connected. */
  watches: number;
  bookmarks: number;
  /** 410 Gone answers and ERROR events: the resourceVersion had expired. */
  expired: number;
  /** Connected watches that broke mid-stream (resumed at once, not counted as failures). */
  dropped: number;
  errors: number;
}

export interface InformerOptions {
  pageSize: number;
  /** timeoutSeconds of each watch request. */
  watchTimeoutSeconds: () => number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A CRD that is not installed is looked for again this often. */
  notServedRetryMs: number;
  /** Grace past timeoutSeconds before a watch that sent nothing (not even a bookmark) counts as dead. */
  silentWatchGraceMs: number;
  /** Shortest time between the starts of two watches (a server that ends every watch at once is no busy loop). */
  minWatchIntervalMs: number;
  /** Any object added, changed or removed, or the collection relisted. */
  onChange: () => void;
  /** The informer started or stopped failing. */
  onHealth: () => void;
  log: Logger;
}

/** Longest a list may take in pages before it is abandoned (a bounded loop, not a limit anyone should reach). */
const MAX_PAGES = 100_000;

export class ResourceInformer {
  readonly resource: WatchedResource;
  readonly stats: InformerStats = { lists: 0, watches: 0, bookmarks: 0, expired: 0, dropped: 0, errors: 0 };
  readonly #client: KubeClient;
  readonly #opts: InformerOptions;
  readonly #lw: ListWatch<RawObject>;
  #notServed = false;
  /** The last watch failed after it had connected (a stream cut, not a refusal). */
  #streamCut = false;
  #failingSince: number | undefined;
  #lastError: string | undefined;
  #attempt = 0;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #synced!: () => void;
  readonly #firstSync = new Promise<void>((resolve) => (this.#synced = resolve));

  constructor(kc: KubeConfig, client: KubeClient, resource: WatchedResource, opts: InformerOptions) {
    this.resource = resource;
    this.#client = client;
    this.#opts = opts;
    this.#lw = new ListWatch<RawObject>(collectionPath(resource), new InformerWatch(kc, this), () => this.#list(), false);
    for (const verb of ['add', 'update', 'delete'] as const) this.#lw.on(verb, () => opts.onChange());
    this.#lw.on('error', (err: unknown) => this.#onError(err));
  }

  /** Starts listing and watching; resolves once the first list is in (or the CRD turned out not to be installed). */
  start(): Promise<void> {
    this.#run();
    return this.#firstSync;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    void this.#lw.stop();
  }

  /** The cached objects now. */
  objects(): readonly RawObject[] {
    return this.#notServed ? [] : this.#lw.list();
  }

  /** Since when (ms epoch) and why the informer has been failing; undefined while it works. */
  failure(): { since: number; error: string } | undefined {
    return this.#failingSince === undefined ? undefined : { since: this.#failingSince, error: this.#lastError ?? 'unknown error' };
  }

  #run(): void {
    if (this.#stopped) return;
    this.#lw.start().catch((err: unknown) => this.#onError(err));
  }

  async #list(): Promise<RawList> {
    const list = await listAll(this.#client, this.resource, this.#opts.pageSize);
    this.stats.lists += 1;
    this.#notServed = false;
    this.#healthy();
    // ListWatch stores the items right after this promise resolves; the change is reported once they are in.
    setImmediate(() => {
      this.#synced();
      this.#opts.onChange();
    });
    return list;
  }

  #onError(err: unknown): void {
    if (this.#stopped) return;
    this.stats.errors += 1;
    if (this.#streamCut) {
      // A connected watch that broke (a restarted API server, a load balancer's idle cut) is routine: resume at once
      // from the last resourceVersion; InformerWatch spaces the restarts, so a server that cuts every watch is no busy loop.
      this.#streamCut = false;
      this.stats.dropped += 1;
      this.#opts.log.info('watch cut; resuming from the last resourceVersion', { resource: collectionPath(this.resource), error: errorMessage(err) });
      return this.#schedule(0);
    }
    if (this.resource.crd && isNotFound(err)) {
      if (!this.#notServed) this.#opts.log.warn('the resource is not served (its CRD is not installed?); treated as empty', { resource: collectionPath(this.resource) });
      this.#notServed = true;
      this.#healthy();
      this.#synced();
      this.#opts.onChange();
      return this.#schedule(this.#opts.notServedRetryMs);
    }
    const error = errorMessage(err);
    if (this.#failingSince === undefined) {
      this.#failingSince = Date.now();
      this.#opts.log.warn('list/watch failed; retrying with back-off, keeping the objects seen so far', { resource: collectionPath(this.resource), error });
    }
    this.#lastError = error;
    this.#opts.onHealth();
    const base = Math.min(this.#opts.backoffMaxMs, this.#opts.backoffInitialMs * 2 ** Math.min(this.#attempt, 20));
    this.#attempt += 1;
    this.#schedule(base / 2 + Math.random() * (base / 2));
  }

  #schedule(ms: number): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#run(), ms);
  }

  #healthy(): void {
    this.#attempt = 0;
    if (this.#stopped) return;
    if (this.#failingSince === undefined) return;
    this.#opts.log.info('list/watch works again', { resource: collectionPath(this.resource), downMs: Date.now() - this.#failingSince });
    this.#failingSince = undefined;
    this.#lastError = undefined;
    this.#opts.onHealth();
  }

  /** Called by InformerWatch. */
  watchConnected(): void {
    this.stats.watches += 1;
    this.#healthy();
  }

  watchEvent(type: string, obj: { code?: number } | undefined): void {
    if (type === 'BOOKMARK') this.stats.bookmarks += 1;
    if (type === 'ERROR' && obj?.code === 410) this.stats.expired += 1;
  }

  watchFailed(err: unknown, connected: boolean): void {
    if (isGoneError(err)) this.stats.expired += 1;
    else if (connected) this.#streamCut = true;
  }

  get silentWatchGraceMs(): number {
    return this.#opts.silentWatchGraceMs;
  }

  get minWatchIntervalMs(): number {
    return this.#opts.minWatchIntervalMs;
  }

  watchTimeoutSeconds(): number {
    return this.#opts.watchTimeoutSeconds();
  }

  get stopped(): boolean {
    return this.#stopped;
  }
}

/**
 * client-node's Watch with bookmarks, a server-side timeout, and a watchdog;
 * it reports to its informer what ListWatch keeps to itself.
 */
class InformerWatch extends Watch {
  readonly #informer: ResourceInformer;
  #lastStart = 0;

  constructor(kc: KubeConfig, informer: ResourceInformer) {
    super(kc);
    this.#informer = informer;
  }

  override async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // A server (or a proxy in front of it) that ends every watch at once must not turn this into a busy loop.
    const wait = this.#lastStart + this.#informer.minWatchIntervalMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.#lastStart = Date.now();
    // ListWatch may start a watch after stop() (its list was in flight): never let one run.
    if (this.#informer.stopped) return abortedController();
    const timeoutSeconds = this.#informer.watchTimeoutSeconds();
    let ended = false;
    let connected = false;
    let watchdog: NodeJS.Timeout | undefined;
    let controller: AbortController | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller?.abort(), timeoutSeconds * 1000 + this.#informer.silentWatchGraceMs);
    };
    const onDone = (err: unknown) => {
      ended = true;
      clearTimeout(watchdog);
      if (err) this.#informer.watchFailed(err, connected);
      done(err);
    };
    const onEvent = (phase: string, obj: unknown, raw?: unknown) => {
      connected = true;
      arm();
      this.#informer.watchEvent(phase, obj as { code?: number });
      callback(phase, obj, raw);
    };
    const fieldSelector = this.#informer.resource.fieldSelector;
    controller = await super.watch(path, { ...query, ...(fieldSelector ? { fieldSelector } : {}), allowWatchBookmarks: true, timeoutSeconds }, onEvent, onDone);
    if (!ended) {
      connected = true;
      arm();
      this.#informer.watchConnected();
    }
    return controller;
  }
}

function abortedController(): AbortController {
  const c = new AbortController();
  c.abort();
  return c;
}

function isGoneError(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: number } | undefined;
  return e?.statusCode === 410 || e?.code === 410 || isGone(err);
}

/**
 * The whole collection, `pageSize` objects a request. Items of built-in
 * kinds come without kind and apiVersion in a list; they are filled in.
 */
export async function listAll(client: KubeClient, r: WatchedResource, pageSize: number): Promise<RawList> {
  const path = collectionPath(r);
  const items: RawObject[] = [];
  let cont: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    let res: RawList;
    try {
      res = await client.get<RawList>(path, { limit: pageSize, continue: cont, fieldSelector: r.fieldSelector });
    } catch (err) {
      // The continue token expired mid-list: one list without pages, as client-go's pager does.
      if (cont !== undefined && isGone(err)) return complete(r, await client.get<RawList>(path, { fieldSelector: r.fieldSelector }));
      throw err;
    }
    items.push(...((res.items as RawObject[] | null | undefined) ?? []));
    cont = res.metadata?.continue || undefined;
    if (cont === undefined) return complete(r, { metadata: { resourceVersion: res.metadata?.resourceVersion ?? '' }, items });
  }
  throw new Error(`${path}: more than ${MAX_PAGES} pages`);
}

function complete(r: WatchedResource, list: RawList): RawList {
  const apiVersion = apiVersionOf(r);
  list.items ??= [];
  for (const item of list.items) {
    item.apiVersion ??= apiVersion;
    item.kind ??= r.kind;
  }
  return list;
}
