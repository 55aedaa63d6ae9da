import type { JwksLookup } from './authn/jwt-authn.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import { TypeUrl } from '../../xds/type-urls.js';
import type { ResourceSet, XdsResource } from '../wire/resource.js';
import type { MeshModel } from '../registry/model.js';
import type { Generator } from './generator.js';
import { identify, labelsKey, scopeKey } from './scope.js';
import { inboundKey, inboundPorts, type InboundPort } from './inbound.js';
import { ScopeResources, type RouteBuilders } from './scope-resources.js';
import { inboundSecurity, type InboundSecuritySpec } from './inbound-security.js';
import { SharedCache } from './shared-cache.js';
import { EndpointMemo } from './endpoint-memo.js';
import { wantsOnDemandClusters } from './on-demand.js';
import { wildcardClusters } from './on-demand-clusters.js';
import { endpointsReachOnlyEds } from './incremental.js';
import { loopbackPlan, loopbackResources, loopbackRoutes, type LoopbackPlan } from './loopback.js';
import { GatewayResources } from './gateway/resources.js';
import { accessLogPolicy, meshDefaultPolicy, policyKey } from './telemetry/access-log-policy.js';
import { ListenerAccessLogs } from './telemetry/listener-access-logs.js';
import { proxyLocality, type ProxyLocality } from './locality/proxy-locality.js';
import { ambientView, named } from './ambient/ambient-view.js';
import { WaypointResources } from './waypoint/resources.js';
import { waypointOf } from './waypoint/served.js';
import { hboneClusters, hboneEndpoints, hboneListeners, hboneSidecar, sidecarMainInternal } from './hbone/sidecar.js';
import { virtualInboundListener } from './inbound.js';
import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { toResource } from '../wire/resource.js';

export type { RouteBuilders } from './scope-resources.js';

/** A Generator that can also say which RDS/EDS names a proxy's listeners and clusters reference. */
export interface TranslateGenerator extends Generator {
  /**
   * The names a proxy subscribes to after receiving its listeners (RDS) or
   * clusters (EDS); the full name set for LDS/CDS; empty for SDS. The same
   * Set object is returned for every proxy of a scope, and passing it back to
   * generate() hits the scope's memo.
   */
  referencedNames(node: ProxyNode, typeUrl: TypeUrl): ReadonlySet<string>;
}

/** What one proxy resolves to: its scope, and its own inbound side (Envoy only). */
interface ProxyState {
  scope: ScopeResources;
  inbound: InboundState;
  /** Set for a sidecar without capture (loopback.ts). */
  loopback?: LoopbackPlan;
  /** Set for a router (a gateway): its listeners and routes replace the sidecar's. */
  gateway?: GatewayResources;
  /** Set for a sidecar speaking HBONE (hbone/sidecar.ts): the ambient pods' addresses, whose endpoints it tunnels to. */
  hboneIps?: ReadonlySet<string>;
  /** Set for a waypoint: HBONE in, its services' L7 stack, HBONE out; no RDS (routes are inline). */
  waypoint?: WaypointResources;
  /** Set for a sidecar with on-demand clusters: what it gets without naming them (the rest comes by name). */
  wildcardClusters?: ResourceSet;
  /** Where the proxy is, for clusters with locality load balancing (computed when one is asked for). */
  locality: () => ProxyLocality;
}

interface InboundState {
  clusters: ResourceSet;
  listeners: ResourceSet;
  clusterNames?: ReadonlySet<string>;
  listenerNames?: ReadonlySet<string>;
}

const emptySet: ResourceSet = new Map();
const noNames: ReadonlySet<string> = new Set();

/**
 * What a Generator memoises that stays valid across an endpoint-only change:
 * scopes, inbound sides, routers' and proxies' states hold clusters,
 * listeners and routes, which do not read endpoints (incremental.ts checks
 * the exceptions). A derived Generator shares it; the previous one is dropped.
 */
interface Durable {
  readonly shared: SharedCache;
  readonly scopes: Map<string, ScopeResources>;
  readonly inbound: Map<string, InboundState>;
  readonly gateways: Map<string, Omit<ProxyState, 'locality'>>;
  readonly nodes: WeakMap<ProxyNode, ProxyState>;
  readonly sourceLabelNs: Map<string, boolean>;
  readonly filtered: WeakMap<ResourceSet, WeakMap<ReadonlySet<string>, ResourceSet>>;
  readonly accessLogs: ListenerAccessLogs;
  /** An inbound side with a Telemetry's access logs, per access log policy: shared by its proxies like the original. */
  readonly logged: WeakMap<InboundState, Map<string, InboundState>>;
  /** The wildcard CDS of on-demand sidecars, by their full cluster set. */
  readonly onDemand: WeakMap<ResourceSet, ResourceSet>;
  /** Set once a proxy state holds the ambient pods' addresses (HBONE sidecars): they come from Pods. */
  readonly hbone: { built: boolean };
}

function freshDurable(shared: SharedCache): Durable {
  return {
    shared, scopes: new Map(), inbound: new Map(), gateways: new Map(), nodes: new WeakMap(), sourceLabelNs: new Map(), filtered: new WeakMap(),
    accessLogs: new ListenerAccessLogs(), logged: new WeakMap(), onDemand: new WeakMap(), hbone: { built: false },
  };
}

class GeneratorImpl implements TranslateGenerator {
  readonly #d: Durable;
  /** Endpoints, and what reads them: rebuilt by every Generator, carried over in part by a derived one. */
  readonly #eds: EndpointMemo;
  readonly #waypoints = new Map<string, Omit<ProxyState, 'locality'>>();
  readonly #waypointNodes = new WeakMap<ProxyNode, ProxyState>();

  /**
   * `source`: the JWKS keys of a new Generator, or the Generator this one is
   * derived from — after an endpoint-only change (derive(): everything but
   * the changed services' assignments kept) or a routing-only one
   * (deriveForRouting(): clusters and assignments kept, scopes rebuilt).
   */
  constructor(
    readonly model: MeshModel,
    readonly routes: RouteBuilders,
    source: { jwks: JwksLookup } | { from: GeneratorImpl; changedHosts: ReadonlySet<string> } | { from: GeneratorImpl; routing: true },
  ) {
    if (!('from' in source)) {
      this.#d = freshDurable(new SharedCache(model, source.jwks));
      this.#eds = new EndpointMemo(model);
      return;
    }
    const d = source.from.#d;
    const shared = d.shared.withModel(model);
    this.#d = 'routing' in source ? freshDurable(shared) : { ...d, shared };
    this.#eds = new EndpointMemo(model, { from: source.from.#eds, changedHosts: 'routing' in source ? noNames : source.changedHosts });
  }

  /** A Generator for `model`, which differs from this one's in VirtualServices only: new scopes, the same clusters and assignments. */
  deriveForRouting(model: MeshModel): TranslateGenerator {
    return new GeneratorImpl(model, this.routes, { from: this, routing: true });
  }

  /** A Generator for `model`, which differs from this one's by the endpoints of `changedHosts` only; undefined when they reach more than EDS. */
  derive(model: MeshModel, changedHosts: ReadonlySet<string>): TranslateGenerator | undefined {
    const reach = { shared: this.#d.shared, hboneBuilt: this.#d.hbone.built };
    return endpointsReachOnlyEds(this.model, model, changedHosts, reach) ? new GeneratorImpl(model, this.routes, { from: this, changedHosts }) : undefined;
  }

  generate(node: ProxyNode, typeUrl: TypeUrl, names: ReadonlySet<string> | undefined): ResourceSet {
    // The workload API is one table for every node proxy: nothing of the asking proxy's own scope.
    if (typeUrl === TypeUrl.Address) return named(ambientView(this.model).addresses, names);
    if (typeUrl === TypeUrl.Authorization) return named(ambientView(this.model).authorizations, names);
    const st = this.#state(node);
    switch (typeUrl) {
      case TypeUrl.Cluster:
        return names ? this.#filter(st.inbound.clusters, names) : st.wildcardClusters ?? st.inbound.clusters;
      case TypeUrl.Listener:
        if (names && node.generator === 'grpc') return this.#grpcListeners(st.scope, names);
        // Any client asking for "HOST:PORT" by name gets an API listener, as istiod does for proxyless gRPC.
        return this.#filter(st.inbound.listeners, names, (n) => st.scope.grpcListener(n));
      case TypeUrl.ClusterLoadAssignment:
        if (st.waypoint) return st.waypoint.endpoints(names, this.#eds);
        if (st.hboneIps) return hboneEndpoints(st.scope.endpoints(names ?? st.scope.edsNames(), this.#eds, st.locality), st.hboneIps);
        return st.scope.endpoints(names ?? st.scope.edsNames(), this.#eds, st.locality);
      case TypeUrl.RouteConfiguration: {
        if (st.waypoint) return emptySet;
        if (st.gateway) return st.gateway.routeConfigs(names ?? st.gateway.routeNames());
        const routes = st.scope.routeConfigs(names ?? st.scope.routeNames());
        return st.loopback ? loopbackRoutes(routes, st.loopback) : routes;
      }
      case TypeUrl.Secret:
        // Workload identity comes from each proxy's own agent; the control plane serves only gateways'
        // credentialName Secrets, and only to routers (credential-secrets.ts).
        return st.gateway && names ? st.gateway.secrets(names) : emptySet;
      case TypeUrl.NameTable:
        // istiod: DNS proxying is for sidecars (a router's agent gets no table).
        return st.gateway || st.waypoint || node.generator !== 'envoy' ? emptySet : st.scope.nameTable();
      default:
        return emptySet;
    }
  }

  referencedNames(node: ProxyNode, typeUrl: TypeUrl): ReadonlySet<string> {
    const st = this.#state(node);
    switch (typeUrl) {
      case TypeUrl.ClusterLoadAssignment: return st.waypoint ? st.waypoint.edsNames() : st.scope.edsNames();
      case TypeUrl.RouteConfiguration: return st.waypoint ? noNames : st.gateway ? st.gateway.routeNames() : st.scope.routeNames();
      // Every cluster the proxy may hold, also those a proxy with on-demand clusters gets only by name.
      case TypeUrl.Cluster: return (st.inbound.clusterNames ??= new Set(st.inbound.clusters.keys()));
      case TypeUrl.Listener: return (st.inbound.listenerNames ??= new Set(st.inbound.listeners.keys()));
      default: return noNames;
    }
  }

  #state(node: ProxyNode): ProxyState {
    const hit = this.#d.nodes.get(node) ?? this.#waypointNodes.get(node);
    if (hit) return hit;
    const id = identify(this.model, node);
    let where: ProxyLocality | undefined;
    const locality = () => (where ??= proxyLocality(node, id.labels, id.workload));
    const waypoint = node.generator === 'envoy' ? waypointOf(this.model, node, id.labels) : undefined;
    if (waypoint) {
      const st = { ...this.#waypointState(`waypoint|${waypoint.namespace}/${waypoint.name}`, waypoint), locality };
      // A waypoint's EDS reads endpoints through its own memo: never carried into a derived Generator.
      this.#waypointNodes.set(node, st);
      return st;
    }
    if (node.type === 'router' && node.generator === 'envoy') {
      const st = this.#withAccessLogs({ ...this.#routerState(node, id.labels), locality }, id.namespace, id.labels, true);
      this.#d.nodes.set(node, st);
      return st;
    }
    const loopback = loopbackPlan(node);
    const hbone = hboneSidecar(node) && !loopback;
    const onDemand = wantsOnDemandClusters(node) && !hbone;
    const { key, make } = scopeKey(this.model, node, id, this.#d.sourceLabelNs, onDemand);
    let scope = this.#d.scopes.get(key);
    if (!scope) this.#d.scopes.set(key, (scope = new ScopeResources(make(), this.#d.shared, this.routes)));
    const envoy = node.generator !== 'grpc';
    const ports = envoy ? inboundPorts(this.model, id.namespace, id.labels, id.workload) : [];
    const security = envoy ? inboundSecurity(this.model, id.namespace, id.labels, this.#d.shared) : undefined;
    const inbound = this.#inboundState(scope, ports, security);
    // A proxy without capture binds what capture would have handed it: its own copy, per proxy.
    const plain: ProxyState = loopback
      ? { scope, inbound: loopbackResources(inbound.listeners, inbound.clusters, scope.spec.scope.services, loopback), loopback, locality }
      : { scope, inbound, locality };
    const logged = envoy ? this.#withAccessLogs(plain, id.namespace, id.labels, false) : plain;
    const st = hbone ? this.#withHbone(logged, node, ports, security!) : onDemand ? this.#withOnDemand(logged) : logged;
    this.#d.nodes.set(node, st);
    return st;
  }

  /** A sidecar with on-demand clusters: its wildcard CDS without the clusters its HTTP routes name (on-demand.ts). */
  #withOnDemand(st: ProxyState): ProxyState {
    let wildcard = this.#d.onDemand.get(st.inbound.clusters);
    if (!wildcard) this.#d.onDemand.set(st.inbound.clusters, (wildcard = wildcardClusters(st.inbound.clusters, st.scope.spec.scope.services)));
    return { ...st, wildcardClusters: wildcard };
  }

  /** The proxy's listeners with the access logs the Telemetries that apply to it choose (unchanged without any). */
  #withAccessLogs(st: ProxyState, namespace: string, labels: Readonly<Record<string, string>>, gateway: boolean): ProxyState {
    const policy = accessLogPolicy(this.model.telemetriesFor(namespace, labels));
    if (policy === meshDefaultPolicy || (policy.client === 'mesh-default' && policy.server === 'mesh-default')) return st;
    const key = `${policyKey(policy)}/${gateway}`;
    let byPolicy = this.#d.logged.get(st.inbound);
    if (!byPolicy) this.#d.logged.set(st.inbound, (byPolicy = new Map()));
    let inbound = byPolicy.get(key);
    if (!inbound) byPolicy.set(key, (inbound = { clusters: st.inbound.clusters, listeners: this.#d.accessLogs.apply(st.inbound.listeners, policy, gateway) }));
    return { ...st, inbound };
  }

  /**
   * A router serves the Gateways its labels select, and nothing of a
   * sidecar's: no virtualOutbound/virtualInbound, no capture, its listeners
   * bound to their own ports. Shared by routers of one namespace and labels.
   */
  #routerState(node: ProxyNode, labels: Readonly<Record<string, string>>): Omit<ProxyState, 'locality'> {
    const key = `router|${node.namespace}|${labelsKey(labels)}`;
    let st = this.#d.gateways.get(key);
    if (st) return st;
    const gateway = new GatewayResources(key, this.model, node, labels, this.#d.shared, this.routes);
    st = { scope: gateway.scope, inbound: { clusters: gateway.scope.clusters(), listeners: gateway.listeners() }, gateway };
    this.#d.gateways.set(key, st);
    return st;
  }

  /** A sidecar that speaks HBONE: its own listeners and clusters (main_internal names its pod's addresses). */
  #withHbone(st: ProxyState, node: ProxyNode, ports: readonly InboundPort[], security: InboundSecuritySpec): ProxyState {
    const td = this.model.trustDomain;
    const plainInbound = virtualInboundListener(ports, { ...security.make(), mtls: { mode: 'DISABLE', perPort: new Map(), shadowed: [] } });
    const listeners = new Map(st.inbound.listeners);
    for (const l of hboneListeners(td, sidecarMainInternal(plainInbound, node.ipAddresses))) listeners.set(l.name, toResource(ListenerSchema, l.name, l));
    this.#d.hbone.built = true;
    return { ...st, inbound: { clusters: hboneClusters(st.inbound.clusters, td), listeners }, hboneIps: ambientView(this.model).podIps };
  }

  /** A waypoint's resources: one per waypoint Gateway, shared by its replicas. */
  #waypointState(key: string, ref: { namespace: string; name: string }): Omit<ProxyState, 'locality'> {
    let st = this.#waypoints.get(key);
    if (st) return st;
    const waypoint = new WaypointResources(key, this.model, ref, this.#d.shared, this.routes);
    st = { scope: waypoint.scope, inbound: { clusters: waypoint.clusters(), listeners: waypoint.listeners() }, waypoint };
    this.#waypoints.set(key, st);
    return st;
  }

  /** Scope resources plus the workload's inbound side; shared by workloads with the same inbound ports and security. */
  #inboundState(scope: ScopeResources, ports: readonly InboundPort[], security: InboundSecuritySpec | undefined): InboundState {
    const ikey = `${inboundKey(ports)}#${security?.key ?? ''}`;
    const key = `${scope.key}#${ikey}`;
    let st = this.#d.inbound.get(key);
    if (st) return st;
    if (scope.spec.generator === 'grpc') {
      st = { clusters: scope.clusters(), listeners: scope.listeners() };
    } else {
      // Without inbound ports the scope's own Map is used as is (no copy per workload kind).
      const clusters = ports.length === 0 ? scope.clusters() : new Map<string, XdsResource>(scope.clusters());
      for (const p of ports) {
        const r = this.#d.shared.inboundCluster(p.port, p.services, p.loopbackPort);
        (clusters as Map<string, XdsResource>).set(r.name, r);
      }
      const listeners = new Map<string, XdsResource>(scope.listeners());
      const vin = this.#d.shared.virtualInbound(ikey, ports, security!.make);
      listeners.set(vin.name, vin);
      st = { clusters, listeners };
    }
    this.#d.inbound.set(key, st);
    return st;
  }

  /** gRPC asks for listeners by name ("HOST:PORT"), including names not in the wildcard set (short host names). */
  #grpcListeners(scope: ScopeResources, names: ReadonlySet<string>): ResourceSet {
    const out = new Map<string, XdsResource>();
    for (const n of names) {
      const r = scope.grpcListener(n);
      if (r) out.set(n, r);
    }
    return out;
  }

  /** The named subset of a full set; memoised on both identities so repeated asks return the same Map. */
  #filter(full: ResourceSet, names: ReadonlySet<string> | undefined, fallback?: (name: string) => XdsResource | undefined): ResourceSet {
    if (!names) return full;
    let byNames = this.#d.filtered.get(full);
    if (!byNames) this.#d.filtered.set(full, (byNames = new WeakMap()));
    let hit = byNames.get(names);
    if (!hit) {
      const out = new Map<string, XdsResource>();
      for (const n of names) {
        const r = full.get(n) ?? fallback?.(n);
        if (r) out.set(n, r);
      }
      byNames.set(names, (hit = out));
    }
    return hit;
  }
}

/**
 * The translation Generator for one immutable model (one push). Scopes,
 * inbound sides and every XdsResource are memoised for its lifetime.
 * `jwks` is the keys of each RequestAuthentication jwksUri as fetched
 * before this push (none: every such rule gets istiod's reject-all keys).
 */
export function createGenerator(model: MeshModel, routes: RouteBuilders, jwks: JwksLookup = () => undefined): TranslateGenerator {
  return new GeneratorImpl(model, routes, { jwks });
}

/**
 * The Generator for `model` after an endpoint-only change to `changedHosts`
 * (registry/build-model.ts updateEndpoints): it shares `prev`'s clusters,
 * listeners, routes and proxy states and rebuilds only the changed
 * services' ClusterLoadAssignments (and waypoints', and the workload API).
 * Undefined when the change reaches further than EDS (incremental.ts) or
 * `prev` was not made here: translate in full then. Same keys for JWKS as
 * `prev` (a change of keys is a full push).
 */
export function deriveGenerator(prev: TranslateGenerator, model: MeshModel, changedHosts: ReadonlySet<string>): TranslateGenerator | undefined {
  return prev instanceof GeneratorImpl ? prev.derive(model, changedHosts) : undefined;
}

/**
 * The Generator for `model` after a routing-only change (VirtualServices;
 * registry/build-model.ts updateRouting): scopes, listeners and routes are
 * translated again — virtual hosts of unchanged VirtualServices come from
 * the memo (routes/vhost-memo.ts) — while clusters and load assignments,
 * which no VirtualService shapes, are `prev`'s. Undefined if `prev` was not
 * made here.
 */
export function deriveRoutingGenerator(prev: TranslateGenerator, model: MeshModel): TranslateGenerator | undefined {
  return prev instanceof GeneratorImpl ? prev.deriveForRouting(model) : undefined;
}
