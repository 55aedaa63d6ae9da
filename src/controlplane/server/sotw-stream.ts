import { create } from '@bufbuild/protobuf';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import {
  DiscoveryResponseSchema,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../gen/envoy/service/discovery/v3/discovery_pb.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import { deltaOnlyTypes, isKnownType, pushOrder, shortName, TypeUrl, wildcardTypes } from '../../xds/type-urls.js';
import type { ResourceSet, XdsResource } from '../wire/resource.js';
import { diffFrom, versionsOf, wholeList } from './set-diff.js';
import type { Any } from '@bufbuild/protobuf/wkt';
import { generateSafely, sizeOf, typeLabel, type PushTarget, type StreamContext } from './context.js';
import type { UndecodableRequest } from './server-service.js';
import { ON_DEMAND_METADATA } from '../translate/on-demand.js';
import { driveStream, invalidArgument, nodeOf, type ParseNode } from './stream-call.js';
import { TypeSync, type SyncSource } from './sync-status.js';
import type { Reappearance } from './reappearance.js';

/** One type's subscription on a SotW stream. */
interface SotwWatch {
  wildcard: boolean;
  names: Set<string>;
  sync: TypeSync;
  /** A response was NACKed: the client holds older versions than we sent, so the next push sends the whole set. */
  needsFull?: boolean;
}

const controlPlane = { identifier: 'trellis' };

/**
 * One State-of-the-World ADS stream. A response to a request carries the
 * full set of the type; version_info is setVersion(set), so a push compares
 * strings and sends nothing when the proxy's set did not change. A push of
 * EDS carries only the assignments that changed, as istiod's incremental
 * EDS does: the protocol makes only LDS and CDS responses the state of the
 * world (an assignment a response does not name is kept by Envoy and gRPC),
 * so one endpoint change costs one assignment per proxy, not all of them.
 */
export class SotwConnection implements PushTarget, SyncSource {
  readonly kind = 'sotw' as const;
  readonly connectedAt = new Date();
  readonly types = new Map<TypeUrl, TypeSync>();
  readonly #watches = new Map<TypeUrl, SotwWatch>();
  readonly #reappearance: Reappearance;
  #unknownTypeSeen = false;

  constructor(
    readonly node: ProxyNode,
    readonly call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>,
    readonly ctx: StreamContext,
  ) {
    this.#reappearance = ctx.reappearance(node.id);
  }

  onRequest(req: DiscoveryRequest): void {
    if (!isKnownType(req.typeUrl)) {
      // A peer can repeat this on every request: one warning per stream, the rest at debug.
      this.ctx.log[this.#unknownTypeSeen ? 'debug' : 'warn']('ignoring request for unknown type', { proxy: this.node.id, type: req.typeUrl });
      this.#unknownTypeSeen = true;
      return;
    }
    const type = req.typeUrl;
    // The workload API is incremental by design (ztunnel speaks only Delta): say so rather than leave the client waiting.
    if (deltaOnlyTypes.has(type)) throw invalidArgument(`${type} (${shortName[type]}) is served over Delta xDS only (DeltaAggregatedResources), not StreamAggregatedResources`);
    const watch = this.#watches.get(type);
    // No nonce, or a nonce from before this stream existed (reconnect): a new subscription.
    if (!watch || req.responseNonce === '') {
      this.#subscribe(type, req.resourceNames, watch);
      return;
    }
    if (req.responseNonce !== watch.sync.sent?.nonce) {
      this.ctx.log.debug('ignoring stale nonce', { proxy: this.node.id, type: shortName[type], nonce: req.responseNonce });
      return;
    }
    if (req.errorDetail) {
      this.#nack(watch, req.responseNonce, req.errorDetail.message);
      return;
    }
    watch.sync.recordAck(req.responseNonce);
    if (!sameSubscription(watch, type, req.resourceNames)) this.#subscribe(type, req.resourceNames, watch);
  }

  #subscribe(type: TypeUrl, names: readonly string[], existing: SotwWatch | undefined): void {
    const wildcard = wildcardTypes.has(type) && (names.length === 0 || names.includes('*'));
    const watch: SotwWatch = existing ?? { wildcard, names: new Set(), sync: new TypeSync(type) };
    watch.wildcard = wildcard;
    watch.names = new Set(names.filter((n) => n !== '*'));
    if (!existing) {
      this.#watches.set(type, watch);
      this.types.set(type, watch.sync);
    }
    // Always answer a (re)subscription, even with an unchanged or empty set: the client is waiting.
    const set = this.#generate(type, watch);
    if (set) this.#send(type, watch, set, this.ctx.versionOf(set));
  }

  #nack(watch: SotwWatch, nonce: string, error: string): void {
    watch.sync.recordNack(nonce, error);
    watch.needsFull = true;
    this.ctx.metrics.rejects.inc({ type: typeLabel(watch.sync.typeUrl) });
    this.ctx.log.warn('NACK', { proxy: this.node.id, type: shortName[watch.sync.typeUrl], nonce, version: watch.sync.sent?.version, error });
  }

  #generate(type: TypeUrl, watch: SotwWatch): ResourceSet | undefined {
    const set = generateSafely(this.ctx, this.node, type, watch.wildcard ? undefined : watch.names);
    return set && this.#reappearance.spell(type, set);
  }

  /** `changed`: the resources to write when not the whole set (an EDS push); the client then holds `set`. */
  #send(type: TypeUrl, watch: SotwWatch, set: ResourceSet, version: string, changed?: readonly XdsResource[]): void {
    const nonce = this.ctx.nonce();
    const written = changed ?? [...set.values()];
    const res = create(DiscoveryResponseSchema, { versionInfo: version, typeUrl: type, nonce, controlPlane });
    // Assigned, not passed to create(), which would copy the list: the whole set's list is shared and encoded once (server-service.ts).
    res.resources = changed ? changed.map((r) => r.any) : wholeList(set, anyOf, anyLists);
    this.#reappearance.removed(type, dropped(watch, set));
    watch.sync.recordSent(version, nonce, set);
    if (!changed) watch.needsFull = false;
    this.ctx.metrics.pushes.inc({ type: typeLabel(type) });
    this.ctx.metrics.configSize.observe(sizeOf(written), { type: typeLabel(type) });
    this.call.write(res);
  }

  push(started: number): number {
    let sent = 0;
    for (const type of pushOrder) {
      const watch = this.#watches.get(type);
      if (!watch) continue;
      const set = this.#generate(type, watch);
      if (!set) continue;
      const version = this.ctx.versionOf(set);
      // Also covers a NACKed version: it is the last sent one, so it is not sent again.
      if (version === watch.sync.sent?.version) continue;
      this.#send(type, watch, set, version, type === TypeUrl.ClusterLoadAssignment && !watch.needsFull ? changedOnly(watch, set) : undefined);
      sent++;
    }
    if (sent > 0) this.ctx.metrics.convergence.observe((performance.now() - started) / 1000);
    return sent;
  }

  close(): void {
    this.call.end();
  }
}

const anyLists = new WeakMap<ResourceSet, Any[]>();
const anyOf = (r: XdsResource) => r.any;

/**
 * The resources of `set` that differ from the last response's view, or
 * undefined when a name the client watches went away (the whole set is sent
 * then, as before: only a full response says what is gone).
 */
function changedOnly(watch: SotwWatch, set: ResourceSet): readonly XdsResource[] | undefined {
  const diff = diffFrom(versionsOf(watch.sync.resources), set);
  return diff.removed.some((n) => watch.wildcard || watch.names.has(n)) ? undefined : diff.changed;
}

/** Names the last response had, this one lacks, and the client still watches: to the client, deleted. */
function* dropped(watch: SotwWatch, set: ResourceSet): Iterable<string> {
  for (const name of watch.sync.resources.keys()) {
    if (!set.has(name) && (watch.wildcard || watch.names.has(name))) yield name;
  }
}

function sameSubscription(watch: SotwWatch, type: TypeUrl, names: readonly string[]): boolean {
  const wildcard = wildcardTypes.has(type) && (names.length === 0 || names.includes('*'));
  if (wildcard !== watch.wildcard) return false;
  const explicit = names.filter((n) => n !== '*');
  if (new Set(explicit).size !== watch.names.size) return false;
  return explicit.every((n) => watch.names.has(n));
}

/**
 * On-demand clusters need Delta (as Envoy's ODCDS does): a SotW client that
 * asks for them is served the full set, and told so in the log.
 */
function withoutOnDemand(node: ProxyNode, ctx: StreamContext): ProxyNode {
  if (node.metadata[ON_DEMAND_METADATA] === undefined) return node;
  ctx.log.warn('on-demand clusters need Delta xDS; serving this SotW stream every cluster', { proxy: node.id });
  const { [ON_DEMAND_METADATA]: _dropped, ...metadata } = node.metadata;
  return { ...node, metadata };
}

/** Serves one StreamAggregatedResources call until it ends. */
export function serveSotw(
  call: ServerDuplexStream<DiscoveryRequest | UndecodableRequest, DiscoveryResponse>,
  ctx: StreamContext,
  parseNode: ParseNode,
): void {
  let conn: SotwConnection | undefined;
  driveStream(
    call,
    ctx,
    (req) => {
      if (!conn) {
        conn = new SotwConnection(withoutOnDemand(nodeOf(req.node, parseNode), ctx), call, ctx);
        ctx.connected(conn);
      }
      conn.onRequest(req);
    },
    () => {
      if (conn) ctx.disconnected(conn);
    },
  );
}
