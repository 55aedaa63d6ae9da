import { create } from '@bufbuild/protobuf';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import {
  DeltaDiscoveryResponseSchema,
  ResourceSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type Resource,
} from '../../gen/envoy/service/discovery/v3/discovery_pb.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import { isKnownType, pushOrder, shortName, wildcardTypes, type TypeUrl } from '../../xds/type-urls.js';
import type { ResourceSet, XdsResource } from '../wire/resource.js';
import { diffFrom, versionsOf, wholeList } from './set-diff.js';
import { generateSafely, sizeOf, typeLabel, type PushTarget, type StreamContext } from './context.js';
import type { UndecodableRequest } from './server-service.js';
import { driveStream, nodeOf, type ParseNode } from './stream-call.js';
import { TypeSync, type SyncSource } from './sync-status.js';

/** One type's subscription on a Delta stream. */
interface DeltaWatch {
  wildcard: boolean;
  names: Set<string>;
  /** What the client has, name → version: from initial_resource_versions, then from what we sent. */
  /** Name → version of what the client holds; shared between streams (versionsOf) until one changes it. */
  clientHas: ReadonlyMap<string, string>;
  /** setVersion of the set the client's view was last computed from. */
  view: string;
  sync: TypeSync;
}

/** Delta Resource messages are the same for every proxy: build each once. */
const wrapped = new WeakMap<XdsResource, Resource>();
function wrap(r: XdsResource): Resource {
  let m = wrapped.get(r);
  if (!m) {
    m = create(ResourceSchema, { name: r.name, version: r.version, resource: r.any });
    wrapped.set(r, m);
  }
  return m;
}

const wholeSets = new WeakMap<ResourceSet, Resource[]>();

const controlPlane = { identifier: 'trellis' };

/**
 * One Delta (incremental) ADS stream. Subscriptions change with
 * resource_names_subscribe/unsubscribe independently of ACKs; responses carry
 * only resources whose version differs from what the client has, plus
 * removed_resources for names it has that no longer exist.
 */
export class DeltaConnection implements PushTarget, SyncSource {
  readonly kind = 'delta' as const;
  readonly connectedAt = new Date();
  readonly types = new Map<TypeUrl, TypeSync>();
  readonly #watches = new Map<TypeUrl, DeltaWatch>();
  #unknownTypeSeen = false;

  constructor(
    readonly node: ProxyNode,
    readonly call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
    readonly ctx: StreamContext,
  ) {}

  onRequest(req: DeltaDiscoveryRequest): void {
    if (!isKnownType(req.typeUrl)) {
      // A peer can repeat this on every request: one warning per stream, the rest at debug.
      this.ctx.log[this.#unknownTypeSeen ? 'debug' : 'warn']('ignoring request for unknown type', { proxy: this.node.id, type: req.typeUrl });
      this.#unknownTypeSeen = true;
      return;
    }
    const type = req.typeUrl;
    const watch = this.#watches.get(type);
    if (!watch) {
      this.#first(type, req);
      return;
    }
    if (req.responseNonce !== '') this.#ackOrNack(watch, req);
    const change = this.#changeSubscription(watch, req);
    // New names or a new wildcard get an answer even when empty; a pure unsubscribe needs none.
    if (change) this.#respond(type, watch, change.added, change.added.size > 0 || change.wildcardOn);
  }

  /**
   * Envoy's rule: an empty first subscribe list on a wildcard type (LDS, CDS, the workload API), or "*", is a
   * wildcard subscription — unless the same request unsubscribes "*", which is how a client asks for nothing
   * but the names it will subscribe to later (ztunnel's on-demand mode; unsubscribe applies after subscribe).
   */
  #first(type: TypeUrl, req: DeltaDiscoveryRequest): void {
    const subs = req.resourceNamesSubscribe;
    const optedOut = req.resourceNamesUnsubscribe.includes('*');
    const watch: DeltaWatch = {
      wildcard: !optedOut && (subs.includes('*') || (subs.length === 0 && wildcardTypes.has(type))),
      names: new Set(subs.filter((n) => n !== '*')),
      clientHas: new Map(Object.entries(req.initialResourceVersions)),
      view: '',
      sync: new TypeSync(type),
    };
    this.#watches.set(type, watch);
    this.types.set(type, watch.sync);
    this.#respond(type, watch, watch.names, true);
  }

  #ackOrNack(watch: DeltaWatch, req: DeltaDiscoveryRequest): void {
    const type = watch.sync.typeUrl;
    if (req.responseNonce !== watch.sync.sent?.nonce) {
      this.ctx.log.debug('ignoring stale nonce', { proxy: this.node.id, type: shortName[type], nonce: req.responseNonce });
      return;
    }
    if (!req.errorDetail) {
      watch.sync.recordAck(req.responseNonce);
      return;
    }
    const error = req.errorDetail.message;
    watch.sync.recordNack(req.responseNonce, error);
    this.ctx.metrics.rejects.inc({ type: typeLabel(type) });
    this.ctx.log.warn('NACK', { proxy: this.node.id, type: shortName[type], nonce: req.responseNonce, version: watch.sync.sent?.version, error });
  }

  /** Applies subscribe/unsubscribe; returns what was added, or undefined when nothing changed. */
  #changeSubscription(watch: DeltaWatch, req: DeltaDiscoveryRequest): { added: Set<string>; wildcardOn: boolean } | undefined {
    // An ACK names nothing: no copy of a set of thousands of names.
    if (req.resourceNamesSubscribe.length === 0 && req.resourceNamesUnsubscribe.length === 0) return undefined;
    let changed = false;
    let wildcardOn = false;
    const added = new Set<string>();
    // A new set, never the old one changed: the generator caches what it filtered by the names set's identity.
    const names = new Set(watch.names);
    watch.names = names;
    for (const n of req.resourceNamesUnsubscribe) {
      if (n === '*') {
        changed ||= watch.wildcard;
        watch.wildcard = false;
      } else if (names.delete(n)) {
        changed = true;
      }
      // The client drops what it unsubscribed from; it must get it again if it re-subscribes.
      if (!watch.wildcard && watch.clientHas.has(n)) {
        const copy = new Map(watch.clientHas);
        copy.delete(n);
        watch.clientHas = copy;
      }
    }
    for (const n of req.resourceNamesSubscribe) {
      if (n === '*') {
        wildcardOn = !watch.wildcard;
        changed ||= wildcardOn;
        watch.wildcard = true;
      } else if (!names.has(n)) {
        names.add(n);
        added.add(n);
        changed = true;
      }
    }
    return changed ? { added, wildcardOn } : undefined;
  }

  #generate(type: TypeUrl, watch: DeltaWatch): ResourceSet | undefined {
    if (!watch.wildcard) return generateSafely(this.ctx, this.node, type, watch.names);
    const all = generateSafely(this.ctx, this.node, type, undefined);
    if (!all || watch.names.size === 0) return all;
    // Wildcard and names at once (a sidecar with on-demand clusters): what the wildcard brings, and the names besides.
    const named = generateSafely(this.ctx, this.node, type, watch.names);
    if (!named || [...named].every(([n, r]) => all.get(n) === r)) return all;
    const out = new Map(all);
    for (const [n, r] of named) out.set(n, r);
    return out;
  }

  /**
   * Sends the difference between the generated set and what the client has.
   * `added` names that do not exist are reported as removed so the client
   * stops waiting for them; `force` sends even an empty response.
   */
  #respond(type: TypeUrl, watch: DeltaWatch, added: ReadonlySet<string>, force: boolean): boolean {
    const set = this.#generate(type, watch);
    if (!set) return false;
    const version = this.ctx.versionOf(set);
    if (!force && version === watch.view) return false;
    const diff = diffFrom(watch.clientHas, set);
    const changed = diff.changed;
    // The whole set (a proxy connecting): the list every such proxy gets, encoded once (server-service.ts).
    const resources = changed.length === set.size ? wholeList(set, wrap, wholeSets) : changed.map(wrap);
    const removed = [...diff.removed];
    for (const n of added) if (!set.has(n) && !watch.clientHas.has(n)) removed.push(n);
    if (!force && resources.length === 0 && removed.length === 0) {
      // The view shrank with an unsubscribe: nothing to tell the client.
      watch.view = version;
      watch.sync.resources = set;
      return false;
    }
    watch.view = version;
    watch.clientHas = versionsOf(set);
    this.#send(type, watch, set, version, resources, removed, changed);
    return true;
  }

  #send(
    type: TypeUrl,
    watch: DeltaWatch,
    set: ResourceSet,
    version: string,
    resources: Resource[],
    removedResources: string[],
    changed: readonly XdsResource[],
  ): void {
    const nonce = this.ctx.nonce();
    const res = create(DeltaDiscoveryResponseSchema, { systemVersionInfo: version, typeUrl: type, removedResources, nonce, controlPlane });
    // Assigned, not passed to create(), which would copy the list and lose the shared one's identity.
    res.resources = resources;
    watch.sync.recordSent(version, nonce, set);
    this.ctx.metrics.pushes.inc({ type: typeLabel(type) });
    this.ctx.metrics.configSize.observe(sizeOf(changed), { type: typeLabel(type) });
    this.call.write(res);
  }

  push(started: number): number {
    let sent = 0;
    for (const type of pushOrder) {
      const watch = this.#watches.get(type);
      if (watch && this.#respond(type, watch, new Set(), false)) sent++;
    }
    if (sent > 0) this.ctx.metrics.convergence.observe((performance.now() - started) / 1000);
    return sent;
  }

  close(): void {
    this.call.end();
  }
}

/** Serves one DeltaAggregatedResources call until it ends. */
export function serveDelta(
  call: ServerDuplexStream<DeltaDiscoveryRequest | UndecodableRequest, DeltaDiscoveryResponse>,
  ctx: StreamContext,
  parseNode: ParseNode,
): void {
  let conn: DeltaConnection | undefined;
  driveStream(
    call,
    ctx,
    (req) => {
      if (!conn) {
        conn = new DeltaConnection(nodeOf(req.node, parseNode), call, ctx);
        ctx.connected(conn);
      }
      conn.onRequest(req);
    },
    () => {
      if (conn) ctx.disconnected(conn);
    },
  );
}
