/**
 * The proxy's ADS client (gRPC over node:http2, grpc-stream.ts): Delta (default) or State-of-the-World.
 * Resources are decoded and validated through the resource-type table, each
 * on its own as Envoy does for CDS and LDS: the valid ones of a response are
 * applied, an invalid one keeps its last good version (or stays absent), and
 * the response is NACKed with every error, the resource's name and field path,
 * the SotW version_info staying the last accepted one. A response with a
 * resource that cannot be decoded at all is rejected whole. The stream
 * reconnects with jittered back-off; the applied config stays in force while
 * disconnected.
 */
import { create } from '@bufbuild/protobuf';
import { adsServiceDefinition } from '../../xds/ads-service.js';
import type { Node } from '../../gen/envoy/config/core/v3/base_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../gen/envoy/service/discovery/v3/discovery_pb.js';
import { StatusSchema } from '../../gen/google/rpc/status_pb.js';
import { logger } from '../../log.js';
import { Backoff } from './backoff.js';
import type { AppliedResource, ResourceType, ResourceWatcher, TypeHandler } from './resource-type.js';
import { TypeState } from './type-state.js';
import { decodeAll } from './decode-all.js';
import { deltaNames } from './delta-names.js';
import type { ConnectionOptions } from 'node:tls';
import { GrpcChannel, type BidiMethod, type BidiStream } from './grpc-stream.js';

const log = logger('xds');
/** Envoy NACKs with grpc-status INTERNAL in error_detail.code (grpc_mux_impl.cc). */
const INTERNAL = 13;

export type XdsProtocol = 'delta' | 'sotw';

export interface XdsClientOptions {
  /** host:port of the ADS server. */
  address: string;
  /** TLS for the stream (istiod's 15012: mTLS with the workload certificate); read on every reconnect. Absent: h2c. */
  tls?: () => ConnectionOptions | undefined;
  node: Node;
  protocol: XdsProtocol;
  /** How long a named resource may be missing before readiness stops waiting for it (Envoy: 15 s). */
  initialFetchTimeoutMs?: number;
  /** Subscription order: the first types are requested first (CDS before LDS). */
  types: readonly ResourceType[];
  /** One handler per type that is put in service (handler() in resource-type.ts keeps each typed). */
  handlers: readonly TypeHandler[];
  backoff?: Backoff;
}

type AnyRequest = DeltaDiscoveryRequest | DiscoveryRequest;
type AnyStream = BidiStream<AnyRequest, unknown>;

export class XdsClient {
  readonly #opts: XdsClientOptions;
  readonly #states = new Map<string, TypeState>();
  readonly #backoff: Backoff;
  readonly #initialFetchTimeoutMs: number;
  /** typeUrl → name → watchers. */
  readonly #watchers = new Map<string, Map<string, Set<ResourceWatcher>>>();
  #channel: GrpcChannel | undefined;
  #stream: AnyStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The response being applied; the next one waits for it. */
  #work: Promise<void> = Promise.resolve();
  #closed = false;
  #connected = false;
  /** Counters shown on the admin API. */
  readonly counters = { acks: 0, nacks: 0, streams: 0, streamErrors: 0 };

  constructor(opts: XdsClientOptions) {
    this.#opts = opts;
    this.#backoff = opts.backoff ?? new Backoff();
    this.#initialFetchTimeoutMs = opts.initialFetchTimeoutMs ?? 15_000;
    for (const t of opts.types) this.#states.set(t.typeUrl, new TypeState(t, opts.handlers.find((h) => h.type === t)));
    for (const h of opts.handlers) if (!opts.types.includes(h.type)) throw new Error(`xDS handler for ${h.type.short}, a type not subscribed`);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Per-type state (read-only use: admin API, readiness). */
  state(typeUrl: string): TypeState | undefined {
    return this.#states.get(typeUrl);
  }

  /**
   * Watches one resource. For RDS/EDS the proxy subscribes through the
   * dependency walk; watching does not add subscriptions by itself.
   * Returns the function that cancels the watch.
   */
  watch<T>(type: ResourceType<T>, name: string, w: ResourceWatcher<T>): () => void {
    let byName = this.#watchers.get(type.typeUrl);
    if (!byName) this.#watchers.set(type.typeUrl, (byName = new Map()));
    let set = byName.get(name);
    if (!set) byName.set(name, (set = new Set()));
    // Held with the other types' watchers; the type's own decode is what produced the values it is given.
    const watcher: ResourceWatcher = w;
    set.add(watcher);
    const known = this.#states.get(type.typeUrl)?.resources.get(name);
    if (known) watcher.onChanged(known.value, known);
    return () => set.delete(watcher);
  }

  /**
   * Envoy's on-demand discovery (ODCDS): adds `names` to a wildcard type's subscription, keeping the
   * wildcard, and asks for them now (a name asked before is subscribed again, as Envoy does). Their arrival
   * or absence (the server lists a name it does not have in removed_resources) reaches watch()ers.
   * Delta only, as in Envoy: on SotW, or for a type that is not wildcard, 'unsupported' and nothing is
   * sent. While disconnected the names wait for the next stream, whose first request names them all.
   */
  subscribeOnDemand(type: ResourceType, names: readonly string[]): 'requested' | 'unsupported' {
    const st = this.#states.get(type.typeUrl);
    if (this.#opts.protocol !== 'delta' || !st?.type.wildcard) return 'unsupported';
    for (const n of names) {
      st.onDemand.add(n);
      st.sent.delete(n);
    }
    if (this.#stream) this.#request(this.#stream, st);
    return 'requested';
  }

  /** `removed`: names the server listed in removed_resources (Delta), known before or not: absent either way. */
  #notify(st: TypeState, before: ReadonlyMap<string, AppliedResource>, removed: readonly string[] = []): void {
    const byName = this.#watchers.get(st.type.typeUrl);
    if (!byName) return;
    const absent = new Set(removed);
    for (const [name, set] of byName) {
      const now = st.resources.get(name);
      const was = before.get(name);
      if (now && now !== was) for (const w of set) w.onChanged(now.value, now);
      else if (!now && (was || absent.has(name))) for (const w of set) w.onDoesNotExist();
    }
  }

  start(): void {
    this.#channel = new GrpcChannel(this.#opts.address, { tls: this.#opts.tls });
    this.#open();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stream?.cancel();
    this.#channel?.close();
  }

  #open(): void {
    if (this.#closed || !this.#channel) return;
    const method = this.#opts.protocol === 'delta' ? adsServiceDefinition.DeltaAggregatedResources : adsServiceDefinition.StreamAggregatedResources;
    // One stream carries one variant; the codecs match the variant chosen here.
    const stream = this.#channel.open(method as BidiMethod<AnyRequest, unknown>);
    this.#stream = stream;
    this.counters.streams++;
    let first = true;
    stream.on('data', (msg: unknown) => {
      if (first) {
        first = false;
        this.#connected = true;
        this.#backoff.reset();
        log.info('ads stream established', { address: this.#opts.address, protocol: this.#opts.protocol });
      }
      // One response at a time, in order: applying may wait (listeners binding) before the ACK or NACK goes out.
      this.#work = this.#work
        .then(() => (this.#opts.protocol === 'delta' ? this.#onDelta(stream, msg as DeltaDiscoveryResponse) : this.#onSotw(stream, msg as DiscoveryResponse)))
        .catch((err: unknown) => log.error('applying xds response failed', { error: String(err) }));
    });
    stream.on('error', (err: Error) => {
      this.counters.streamErrors++;
      if (!this.#closed) log.warn('ads stream error', { error: err.message });
    });
    stream.on('close', () => this.#retry(stream));
    this.#sendInitial(stream);
  }

  #retry(stream: AnyStream): void {
    if (this.#stream !== stream || this.#closed) return;
    this.#stream = undefined;
    this.#connected = false;
    stream.cancel();
    const delay = this.#backoff.next();
    log.info('ads stream closed; reconnecting', { delayMs: delay });
    this.#timer = setTimeout(() => this.#open(), delay);
  }

  #sendInitial(stream: AnyStream): void {
    let node: Node | undefined = this.#opts.node;
    for (const st of this.#states.values()) {
      st.sent = new Set();
      // Nonces belong to the old stream; SotW resumes with the last accepted version_info only.
      st.nonce = '';
      if (!st.subscribed) continue;
      this.#request(stream, st, node, undefined, true);
      node = undefined;
    }
  }

  #request(stream: AnyStream, st: TypeState, node?: Node, nack?: { nonce: string; detail: string }, first = false): void {
    if (this.#opts.protocol === 'delta') {
      const names = deltaNames(st);
      // Known versions go only in a stream's first request for the type, so the server can skip unchanged resources.
      const initial = first ? st.versions() : {};
      st.sent = names.sent;
      stream.write(create(DeltaDiscoveryRequestSchema, {
        node,
        typeUrl: st.type.typeUrl,
        resourceNamesSubscribe: names.subscribe,
        resourceNamesUnsubscribe: names.unsubscribe,
        initialResourceVersions: initial,
      }));
      return;
    }
    stream.write(create(DiscoveryRequestSchema, {
      node,
      typeUrl: st.type.typeUrl,
      versionInfo: st.version,
      responseNonce: nack?.nonce ?? st.nonce,
      resourceNames: st.type.wildcard ? [] : [...st.names].sort(),
      errorDetail: nack ? create(StatusSchema, { code: INTERNAL, message: nack.detail }) : undefined,
    }));
  }

  #ackDelta(st: TypeState, nonce: string, detail?: string): void {
    this.#stream?.write(create(DeltaDiscoveryRequestSchema, {
      typeUrl: st.type.typeUrl,
      responseNonce: nonce,
      errorDetail: detail === undefined ? undefined : create(StatusSchema, { code: INTERNAL, message: detail }),
    }));
  }

  async #onDelta(stream: AnyStream, resp: DeltaDiscoveryResponse): Promise<void> {
    if (this.#stream !== stream) return;
    const st = this.#states.get(resp.typeUrl);
    if (!st) {
      log.warn('response for an unknown type', { typeUrl: resp.typeUrl });
      return;
    }
    const result = decodeAll(st.type, resp.resources.map((r) => ({ any: r.resource, name: r.name, version: r.version })));
    if (!result.ok && result.fatal) return this.#nack(st, resp.nonce, result.detail, true);
    const before = new Map(st.resources);
    for (const r of result.applied) st.resources.set(r.name, r);
    for (const name of resp.removedResources) st.resources.delete(name);
    const failure = await this.#apply(st, resp.systemVersionInfo, resp.nonce, before, result.ok ? undefined : result.detail, resp.removedResources);
    if (this.#stream !== stream) return;
    if (failure === undefined) this.#ackDelta(st, resp.nonce);
    this.#followDependencies(st);
  }

  async #onSotw(stream: AnyStream, resp: DiscoveryResponse): Promise<void> {
    if (this.#stream !== stream) return;
    const st = this.#states.get(resp.typeUrl);
    if (!st) return;
    const result = decodeAll(st.type, resp.resources.map((any) => ({ any, name: undefined, version: resp.versionInfo })));
    if (!result.ok && result.fatal) return this.#nack(st, resp.nonce, result.detail, true);
    const before = new Map(st.resources);
    if (st.type.wildcard) {
      // State of the world: what the response does not name is gone; what it names invalidly keeps its last good version.
      st.resources.clear();
      for (const name of result.ok ? [] : result.rejected) {
        const kept = before.get(name);
        if (kept) st.resources.set(name, kept);
      }
    }
    for (const r of result.applied) st.resources.set(r.name, r);
    const failure = await this.#apply(st, resp.versionInfo, resp.nonce, before, result.ok ? undefined : result.detail);
    if (this.#stream !== stream) return;
    if (failure === undefined) this.#request(stream, st);
    this.#followDependencies(st);
  }

  /**
   * A NACK. `kept`: nothing was applied (a resource that cannot be decoded), the last good config stays;
   * otherwise the valid resources were applied and the invalid ones, or those that could not be put in
   * service (a listener that cannot bind), kept their last good version — Envoy keeps what worked and
   * rejects the update all the same.
   */
  #nack(st: TypeState, nonce: string, detail: string, kept: boolean): void {
    this.counters.nacks++;
    st.rejected++;
    st.nonce = nonce;
    st.lastNack = { detail, nonce, at: new Date() };
    if (kept) log.warn('rejecting xds update (NACK); keeping the last good config', { type: st.type.short, detail });
    else log.warn('rejecting xds update (NACK): the valid resources were applied, the others keep their last good version', { type: st.type.short, detail });
    for (const set of this.#watchers.get(st.type.typeUrl)?.values() ?? []) for (const w of set) w.onError(detail);
    if (this.#opts.protocol === 'delta') this.#ackDelta(st, nonce, detail);
    else if (this.#stream) this.#request(this.#stream, st, undefined, { nonce, detail });
  }

  /**
   * Applies before acknowledging: the handler has run (and, for listeners, bound) when the server sees
   * the ACK. `invalid`: the errors of resources rejected by validation (not applied). Resolves with the
   * NACK detail when those or the handler's failures make it a NACK (already sent).
   */
  async #apply(st: TypeState, version: string, nonce: string, before: ReadonlyMap<string, AppliedResource>, invalid: string | undefined, removed: readonly string[] = []): Promise<string | undefined> {
    st.received = true;
    const pending = st.handler?.apply(st.resources);
    this.#notify(st, before, removed);
    const handled = pending ? await pending : undefined;
    const failure = invalid === undefined ? handled : handled === undefined ? invalid : `${invalid}; ${handled}`;
    if (failure !== undefined) {
      this.#nack(st, nonce, failure, false);
      return failure;
    }
    log.debug('config applied', { type: st.type.short, count: st.resources.size });
    this.counters.acks++;
    st.accepted++;
    st.nonce = nonce;
    st.lastNack = undefined;
    if (version) st.version = version;
    return undefined;
  }

  /** LDS → RDS/SDS and CDS → EDS/SDS: subscribe to what the accepted resources reference, drop the rest. */
  #followDependencies(st: TypeState): void {
    for (const dep of st.type.dependencies ?? []) {
      const child = this.#states.get(dep.typeUrl);
      if (child) this.#resubscribe(child);
    }
  }

  /** A dependent type's names: the union over every type that references it. */
  #resubscribe(child: TypeState): void {
    const names = new Set<string>();
    for (const parent of this.#states.values()) {
      for (const d of parent.type.dependencies ?? []) {
        if (d.typeUrl !== child.type.typeUrl) continue;
        for (const n of d.names([...parent.resources.values()].map((r) => r.value))) names.add(n);
      }
    }
    if (sameSet(names, child.names)) return;
    const now = Date.now();
    for (const n of names) if (!child.askedAt.has(n)) child.askedAt.set(n, now);
    for (const n of child.askedAt.keys()) if (!names.has(n)) child.askedAt.delete(n);
    child.names = names;
    const before = new Map(child.resources);
    for (const name of before.keys()) if (!names.has(name)) child.resources.delete(name);
    if (child.resources.size !== before.size) {
      void child.handler?.apply(child.resources);
      this.#notify(child, before);
    }
    if (this.#stream) this.#request(this.#stream, child);
  }

  /**
   * True once LDS and CDS were accepted and every referenced RDS/EDS/SDS resource arrived — or was
   * waited for longer than Envoy's initial_fetch_timeout (15 s): a secret the control plane never
   * sends must not keep the proxy unready forever (what it guards stays unusable: TLS fails closed).
   */
  initialFetchDone(now = Date.now()): boolean {
    for (const st of this.#states.values()) {
      if (st.type.wildcard && !st.received) return false;
      if (st.type.wildcard) continue;
      for (const n of st.names) {
        if (!st.resources.has(n) && now - (st.askedAt.get(n) ?? now) < this.#initialFetchTimeoutMs) return false;
      }
    }
    return true;
  }

  /** Snapshot for the admin API. */
  resources(typeUrl: string): ReadonlyMap<string, AppliedResource> {
    return this.#states.get(typeUrl)?.resources ?? new Map();
  }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
