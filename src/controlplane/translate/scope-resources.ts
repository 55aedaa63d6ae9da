import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { logger } from '../../log.js';
import { errorMessage } from '../../errors.js';
import { toResource, type ResourceSet, type XdsResource } from '../wire/resource.js';
import { routeConfigResource } from '../wire/route-resource.js';
import type { MeshService } from '../registry/model.js';
import type { RouteBuilders, RouteScope, TlsFilterChainMatch } from './contracts.js';
import { grpcListener, outboundPorts, portKind, sniOutboundListener, tcpOutboundListener } from './listeners.js';
import { resolveGrpcTarget, type ScopeSpec } from './scope.js';
import { proxyKey, type ClusterGroup, type ServiceClusterSet, type SharedCache } from './shared-cache.js';
import type { EndpointMemo } from './endpoint-memo.js';
import type { ProxyLocality } from './locality/proxy-locality.js';
import { NameTableSchema } from '../../gen/networking/nds/v1/nds_pb.js';
import { buildNameTable } from './name-table.js';

/** istiod sends the one NameTable unnamed. */
export const NAME_TABLE_RESOURCE = '';

const log = logger('translate');

export type { RouteBuilders } from './contracts.js';

/** Runs one resource's translation; a failure drops that resource (logged), not the whole response. */
function guarded<T>(what: string, f: () => T): T | undefined {
  try {
    return f();
  } catch (err) {
    log.warn('translation failed; resource skipped', { resource: what, error: errorMessage(err) });
    return undefined;
  }
}

/**
 * Everything one scope (namespace + Sidecar + generator) sees, computed on
 * first use and kept for the Generator's lifetime. Proxies of the same scope
 * get the same Map and XdsResource objects.
 */
export class ScopeResources {
  readonly #byHost: ReadonlyMap<string, MeshService>;
  #group?: ClusterGroup;
  #listeners?: Map<string, XdsResource>;
  #routeNames?: ReadonlySet<string>;
  #nameTable?: ResourceSet;
  readonly #routes = new Map<string, XdsResource | null>();
  readonly #grpcListeners = new Map<string, XdsResource | null>();
  readonly #namedRoutes = new WeakMap<ReadonlySet<string>, ResourceSet>();

  constructor(readonly spec: ScopeSpec, readonly shared: SharedCache, readonly routes: RouteBuilders) {
    this.#byHost = new Map(spec.scope.services.map((s) => [s.hostname, s]));
  }

  get key(): string {
    return this.spec.key;
  }

  /** Outbound clusters (plus, for Envoy, the passthrough and black-hole clusters), shared with scopes that see the same. */
  clusterGroup(): ClusterGroup {
    if (this.#group) return this.#group;
    const { model, namespace, services, selectedRules } = this.spec.scope;
    const sets: ServiceClusterSet[] = [];
    for (const svc of services) {
      const set = guarded(svc.hostname, () => this.shared.serviceClusters(svc, model.destinationRule(svc.hostname, namespace, selectedRules), this.spec.generator, this.spec.dnsFamily));
      if (set) sets.push(set);
    }
    return (this.#group = this.shared.clusterGroup(sets, this.spec.generator));
  }

  clusters(): Map<string, XdsResource> {
    return this.clusterGroup().clusters;
  }

  /** Names of the EDS clusters: what an Envoy subscribes to for endpoints. */
  edsNames(): ReadonlySet<string> {
    return this.clusterGroup().edsNames;
  }

  /**
   * The named ClusterLoadAssignments, from `eds` (the asking Generator's).
   * Clusters with locality load balancing are answered for `proxy`'s
   * locality (asked only then); proxies of equal locality and
   * failoverPriority labels share the answer, and scopes without such
   * clusters keep one answer for everyone.
   */
  endpoints(names: ReadonlySet<string>, eds: EndpointMemo, proxy?: () => ProxyLocality): ResourceSet {
    const group = this.clusterGroup();
    const labels = group.localityLabels;
    const p = labels !== undefined && proxy !== undefined ? proxy() : undefined;
    const one = (name: string) => {
      const t = group.eds.get(name);
      return t && guarded(name, () => (p ? eds.loadAssignmentFor(t, p) : eds.loadAssignment(t)));
    };
    return namedSet(eds.answers(group, p && proxyKey(p, labels!)), canonical(names, group.edsNames), one);
  }

  /** Envoy: virtualOutbound, 0.0.0.0_PORT for HTTP ports, VIP_PORT for TCP ports (virtualInbound is per workload). gRPC: HOST:PORT for every port. */
  listeners(): Map<string, XdsResource> {
    if (this.#listeners) return this.#listeners;
    const out = new Map<string, XdsResource>();
    const { services } = this.spec.scope;
    if (this.spec.generator === 'grpc') {
      for (const name of this.routeNames()) {
        const r = this.grpcListener(name);
        if (r) out.set(name, r);
      }
      return (this.#listeners = out);
    }
    const vout = this.shared.virtualOutbound(this.spec.registryOnly);
    out.set(vout.name, vout);
    const ports = outboundPorts(services);
    for (const port of ports.http) {
      const r = this.shared.httpListener(port);
      out.set(r.name, r);
    }
    for (const { svc, port } of ports.tcp) {
      const l = guarded(`${svc.hostname}:${port}`, () => tcpOutboundListener(this.spec.scope, svc, port, this.routes.tcp, this.routes.tls));
      if (l) out.set(l.name, toResource(ListenerSchema, l.name, l));
    }
    for (const { port, services: tlsServices } of ports.sni) {
      const l = guarded(`0.0.0.0:${port} (SNI)`, () => sniOutboundListener(this.spec.scope, tlsServices, port, this.routes.tcp, this.routes.tls, this.spec.registryOnly));
      if (l) out.set(l.name, toResource(ListenerSchema, l.name, l));
    }
    return (this.#listeners = out);
  }

  /** A gRPC API listener by name, when the name is a visible HOST:PORT. */
  grpcListener(name: string): XdsResource | undefined {
    let hit = this.#grpcListeners.get(name);
    if (hit === undefined) {
      const { model, namespace } = this.spec.scope;
      const target = resolveGrpcTarget(this.#byHost, name, namespace, model.domainSuffix);
      hit = target ? toResource(ListenerSchema, name, grpcListener(name)) : null;
      this.#grpcListeners.set(name, hit);
    }
    return hit ?? undefined;
  }

  /** NDS: the scope's name table (one resource), for the sidecar's DNS proxy. */
  nameTable(): ResourceSet {
    if (this.#nameTable) return this.#nameTable;
    const { model, services } = this.spec.scope;
    const nt = guarded('name table', () => buildNameTable(model, services));
    return (this.#nameTable = new Map(nt ? [[NAME_TABLE_RESOURCE, toResource(NameTableSchema, NAME_TABLE_RESOURCE, nt)]] : []));
  }

  /** Route config names the scope's listeners reference: "PORT" for Envoy, "HOST:PORT" for gRPC. */
  routeNames(): ReadonlySet<string> {
    if (this.#routeNames) return this.#routeNames;
    const grpc = this.spec.generator === 'grpc';
    const names: string[] = [];
    const ports = new Set<number>();
    for (const svc of this.spec.scope.services) {
      for (const p of svc.ports) {
        if (grpc && p.protocol !== 'UDP') names.push(`${svc.hostname}:${p.port}`);
        if (!grpc && portKind(p) === 'http') ports.add(p.port);
      }
    }
    if (!grpc) for (const p of [...ports].sort((a, b) => a - b)) names.push(String(p));
    return (this.#routeNames = new Set(names));
  }

  routeConfigs(names: ReadonlySet<string>): ResourceSet {
    return namedSet(this.#namedRoutes, canonical(names, this.routeNames()), (name) => {
      let hit = this.#routes.get(name);
      if (hit === undefined) {
        const rc = guarded(name, () => this.#buildRoute(name));
        hit = rc ? routeConfigResource(name, rc.name === name ? rc : { ...rc, name }) : null;
        this.#routes.set(name, hit);
      }
      return hit ?? undefined;
    });
  }

  #buildRoute(name: string): RouteConfiguration | undefined {
    const { scope } = this.spec;
    // "HOST:PORT" is a proxyless gRPC route name; Envoy's are port numbers.
    if (this.spec.generator === 'grpc' || !/^\d+$/.test(name)) {
      const t = resolveGrpcTarget(this.#byHost, name, scope.namespace, scope.model.domainSuffix);
      return t && this.routes.grpc(scope, t.svc.hostname, t.port);
    }
    return this.routeNames().has(name) ? this.routes.outbound(scope, Number(name)) : undefined;
  }
}

/**
 * Proxies subscribe to all the names their listeners or clusters reference,
 * each stream with its own Set: such a Set is swapped for the scope's own, so
 * all of them get one shared Map instead of one copy per proxy.
 */
function canonical(names: ReadonlySet<string>, full: ReadonlySet<string>): ReadonlySet<string> {
  if (names === full || names.size !== full.size) return names;
  for (const n of names) if (!full.has(n)) return names;
  return full;
}

/** A set for a named subscription, memoised on the identity of the names set. */
function namedSet(memo: WeakMap<ReadonlySet<string>, ResourceSet>, names: ReadonlySet<string>, one: (name: string) => XdsResource | undefined): ResourceSet {
  let hit = memo.get(names);
  if (!hit) {
    const out = new Map<string, XdsResource>();
    for (const n of names) {
      const r = one(n);
      if (r) out.set(n, r);
    }
    memo.set(names, (hit = out));
  }
  return hit;
}
