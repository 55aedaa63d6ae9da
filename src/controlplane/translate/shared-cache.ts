import type { DestinationRule } from '../../config/objects.js';
import type { GeneratorKind, InboundService } from './contracts.js';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { LbEndpoint } from '../../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { toResource, type ResourceSet, type XdsResource } from '../wire/resource.js';
import type { MeshModel, MeshService } from '../registry/model.js';
import { parseClusterName } from './names.js';
import { blackHoleCluster, clusterContext, inboundCluster, inboundPassthroughCluster, passthroughCluster, serviceClusters, type DnsFamily } from './clusters.js';
import { buildLoadAssignment, groupByLocality, lbEndpointMaker } from './endpoints.js';
import { effectivePolicy, findSubset } from './destination-rule.js';
import { localityLb, type LocalityLb } from './locality/lb-setting.js';
import { localityLoadAssignment } from './locality/priorities.js';
import type { ProxyLocality } from './locality/proxy-locality.js';
import { virtualInboundListener, type InboundPort, type InboundSecurity } from './inbound.js';
import { buildAuthzFilters, type AuthzFilters } from './authz/builder.js';
import type { AuthorizationPolicy, RequestAuthentication } from '../../config/objects.js';
import type { HttpFilter } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { jwtAuthnFilters, type JwksLookup } from './authn/jwt-authn.js';
import { httpOutboundListener, virtualOutboundListener } from './listeners.js';

/** What an EDS cluster name stands for; carries its ClusterLoadAssignment once built. */
export interface EdsTarget {
  name: string;
  hostname: string;
  port: number;
  subsetLabels?: Readonly<Record<string, string>>;
  /** Locality load balancing: the assignment then depends on the asking proxy (see proxyKey). */
  lb?: LocalityLb;
}

/** One service's clusters for one DestinationRule and generator kind. */
export interface ServiceClusterSet {
  readonly id: number;
  readonly resources: XdsResource[];
  readonly eds: EdsTarget[];
}

/**
 * The clusters of every scope that sees the same services with the same
 * rules (typically every namespace without its own Sidecar): one Map, one
 * EDS name set (its answers are memoised per Generator: endpoint-memo.ts).
 */
export interface ClusterGroup {
  readonly clusters: Map<string, XdsResource>;
  readonly eds: Map<string, EdsTarget>;
  readonly edsNames: ReadonlySet<string>;
  /**
   * Set when some EDS cluster has locality load balancing: the labels of the
   * proxy that any of them reads (failoverPriority). Proxies with the same
   * locality and values of these share one answer.
   */
  readonly localityLabels?: readonly string[];
}

/** What a locality-dependent answer depends on: the proxy's locality and the values of `labels`. */
export function proxyKey(proxy: ProxyLocality, labels: readonly string[]): string {
  return labels.length === 0 ? proxy.text : `${proxy.text}|${labels.map((l) => `${l}:${proxy.labels[l] ?? ''}`).join(' ')}`;
}

function memo<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

function isEds(c: Cluster): boolean {
  return c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS;
}

/** What a SharedCache memoises; shared by the caches of Generators derived from one another. */
interface Memos {
  readonly svc: Map<string, Map<MeshService, Map<DestinationRule | null, ServiceClusterSet>>>;
  readonly groups: Map<string, ClusterGroup>;
  readonly http: Map<number, XdsResource>;
  readonly inCluster: Map<string, XdsResource>;
  readonly vin: Map<string, XdsResource>;
  readonly authz: Map<string, AuthzFilters>;
  readonly authn: Map<string, HttpFilter[]>;
  readonly vout: Map<boolean, XdsResource>;
  readonly fixed: Map<string, XdsResource>;
  /** ServiceClusterSet ids key the groups: one counter for every cache sharing them. */
  readonly ids: { next: number };
}

function freshMemos(): Memos {
  return { svc: new Map(), groups: new Map(), http: new Map(), inCluster: new Map(), vin: new Map(), authz: new Map(), authn: new Map(), vout: new Map(), fixed: new Map(), ids: { next: 0 } };
}

/**
 * Resources shared by every scope of one Generator: a service's clusters
 * depend only on the service, the applicable DestinationRule and the
 * generator kind, so ten namespaces without their own rules encode each
 * cluster once. Keys are object identities (the model is immutable).
 */
export class SharedCache {
  readonly #m: Memos;

  /** `from`: a cache whose memos this one shares (withModel()). */
  constructor(readonly model: MeshModel, readonly jwks: JwksLookup = () => undefined, from?: SharedCache) {
    this.#m = from ? from.#m : freshMemos();
  }

  /**
   * The same memos read with `model`, for a Generator derived after an
   * endpoint-only change (incremental.ts): what they hold does not read
   * endpoints, except the clusters of the changed services, which
   * clustersUnchanged() must have confirmed first.
   */
  withModel(model: MeshModel): SharedCache {
    return new SharedCache(model, this.jwks, this);
  }

  /**
   * Whether every cluster built so far for these services comes out the same
   * from `model`. Clusters read endpoints for auto mTLS (their tlsMode),
   * for the SANs (their service accounts) and, for STATIC and DNS services,
   * as inline endpoints.
   */
  clustersUnchanged(hostnames: ReadonlySet<string>, model: MeshModel): boolean {
    for (const [key, bySvc] of this.#m.svc) {
      const [generator, dnsFamily] = key.split('|') as [GeneratorKind, DnsFamily];
      for (const [svc, byDr] of bySvc) {
        if (!hostnames.has(svc.hostname)) continue;
        for (const [dr, set] of byDr) {
          const now = serviceClusters(svc, dr ?? undefined, generator, clusterContext(model, svc, dnsFamily));
          if (now.length !== set.resources.length) return false;
          for (let i = 0; i < now.length; i++) if (toResource(ClusterSchema, now[i]!.name, now[i]!).version !== set.resources[i]!.version) return false;
        }
      }
    }
    return true;
  }

  /** `dnsFamily`: the proxies' (DNS clusters resolve it); the rest of a cluster does not depend on it. */
  serviceClusters(svc: MeshService, dr: DestinationRule | undefined, generator: GeneratorKind, dnsFamily: DnsFamily = 'V4_ONLY'): ServiceClusterSet {
    const bySvc = memo(this.#m.svc, `${generator}|${dnsFamily}`, () => new Map());
    const byDr = memo(bySvc, svc, () => new Map<DestinationRule | null, ServiceClusterSet>());
    return memo(byDr, dr ?? null, () => {
      const clusters = serviceClusters(svc, dr, generator, clusterContext(this.model, svc, dnsFamily));
      const eds: EdsTarget[] = [];
      for (const c of clusters) {
        if (!isEds(c)) continue;
        const parsed = parseClusterName(c.name)!;
        const subsetLabels = parsed.subset ? findSubset(dr, parsed.subset)?.labels ?? {} : undefined;
        const lb = localityLb(effectivePolicy(dr, parsed.port, parsed.subset || undefined));
        eds.push({ name: c.name, hostname: svc.hostname, port: parsed.port, subsetLabels, ...(lb ? { lb } : {}) });
      }
      return { id: this.#m.ids.next++, resources: clusters.map((c) => toResource(ClusterSchema, c.name, c)), eds };
    });
  }

  /** The group for this list of service cluster sets (plus the fixed clusters for Envoy). */
  clusterGroup(sets: readonly ServiceClusterSet[], generator: GeneratorKind): ClusterGroup {
    const key = `${generator}|${sets.map((s) => s.id).join(',')}`;
    return memo(this.#m.groups, key, () => {
      const clusters = new Map<string, XdsResource>();
      const eds = new Map<string, EdsTarget>();
      let localityLabels: Set<string> | undefined;
      for (const set of sets) {
        for (const r of set.resources) clusters.set(r.name, r);
        for (const t of set.eds) {
          eds.set(t.name, t);
          if (!t.lb) continue;
          localityLabels ??= new Set();
          for (const l of t.lb.priorityLabels) localityLabels.add(l);
        }
      }
      if (generator === 'envoy') for (const r of this.#fixedClusters()) clusters.set(r.name, r);
      const group: ClusterGroup = { clusters, eds, edsNames: new Set(eds.keys()) };
      return localityLabels ? { ...group, localityLabels: [...localityLabels].sort() } : group;
    });
  }

  httpListener(port: number): XdsResource {
    return memo(this.#m.http, port, () => {
      const l = httpOutboundListener(port);
      return toResource(ListenerSchema, l.name, l);
    });
  }

  virtualOutbound(registryOnly: boolean): XdsResource {
    return memo(this.#m.vout, registryOnly, () => {
      const l = virtualOutboundListener(registryOnly);
      return toResource(ListenerSchema, l.name, l);
    });
  }

  /** `key` must cover everything the listener depends on: ports, merged mTLS, the selected policies (see inbound-security.ts). */
  virtualInbound(key: string, ports: readonly InboundPort[], security: () => InboundSecurity): XdsResource {
    return memo(this.#m.vin, key, () => {
      const l = virtualInboundListener(ports, security());
      return toResource(ListenerSchema, l.name, l);
    });
  }

  /** RBAC filters for one list of policies, keyed by their identities (the model is immutable). */
  authzFilters(key: string, policies: readonly AuthorizationPolicy[]): AuthzFilters {
    return memo(this.#m.authz, key, () => buildAuthzFilters(policies, this.model.trustDomain));
  }

  /** The jwt_authn filter for one list of RequestAuthentications, keyed by their identities (the keys are fixed for the push). */
  authnFilters(key: string, policies: readonly RequestAuthentication[]): HttpFilter[] {
    return memo(this.#m.authn, key, () => jwtAuthnFilters(policies, this.jwks));
  }

  inboundCluster(port: number, services: readonly InboundService[], loopbackPort?: number): XdsResource {
    return memo(this.#m.inCluster, `${port}|${services.map((x) => x.host).join('+')}|${loopbackPort ?? ''}`, () => {
      const c = inboundCluster(port, services, loopbackPort);
      return toResource(ClusterSchema, c.name, c);
    });
  }

  /** PassthroughCluster, BlackHoleCluster, InboundPassthroughCluster. */
  #fixedClusters(): XdsResource[] {
    return [passthroughCluster, blackHoleCluster, inboundPassthroughCluster].map((make) =>
      memo(this.#m.fixed, make.name, () => {
        const c = make();
        return toResource(ClusterSchema, c.name, c);
      }));
  }
}
