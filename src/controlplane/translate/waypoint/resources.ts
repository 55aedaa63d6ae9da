/**
 * Everything a waypoint proxy receives (istiod's waypoint generation):
 * listeners connect_terminate (15008, mTLS, CONNECT) → main_internal (the
 * L7 stack per served service) → connect_originate (HBONE to the chosen
 * endpoint); clusters main_internal, connect_originate, the inbound-vip
 * clusters of the served services, and the outbound clusters of its
 * namespace's view for routes that leave them; EDS for both. Built once
 * per waypoint Gateway and push, shared by its replicas.
 */
import { ClusterSchema } from '../../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../../gen/envoy/config/listener/v3/listener_pb.js';
import { objectKey } from '../../../config/objects.js';
import { toResource, type ResourceSet, type XdsResource } from '../../wire/resource.js';
import type { MeshModel } from '../../registry/model.js';
import { visibleServices } from '../../registry/visibility.js';
import type { WaypointRef } from '../ambient/waypoints.js';
import { connectOriginateCluster, mainInternalCluster } from '../hbone/clusters.js';
import { connectOriginateListener, connectTerminateListener } from '../hbone/listeners.js';
import { ScopeResources, type RouteBuilders } from '../scope-resources.js';
import type { SharedCache } from '../shared-cache.js';
import type { EndpointMemo } from '../endpoint-memo.js';
import { waypointMainInternal, type ServedService } from './chains.js';
import { servedServices, targetingPolicies } from './served.js';
import { vipClusters, vipLoadAssignment, type VipTarget } from './vip-clusters.js';

export class WaypointResources {
  /** The outbound side: the services visible from the waypoint's namespace. */
  readonly scope: ScopeResources;
  readonly #model: MeshModel;
  readonly #ref: WaypointRef;
  readonly #shared: SharedCache;
  readonly #routes: RouteBuilders;
  #listeners?: Map<string, XdsResource>;
  #clusters?: Map<string, XdsResource>;
  #targets?: Map<string, VipTarget>;
  #edsNames?: ReadonlySet<string>;
  readonly #cla = new Map<string, XdsResource>();

  constructor(key: string, model: MeshModel, ref: WaypointRef, shared: SharedCache, routes: RouteBuilders) {
    this.#model = model;
    this.#ref = ref;
    this.#shared = shared;
    this.#routes = routes;
    const services = visibleServices(model.services, ref.namespace, undefined);
    this.scope = new ScopeResources({ key, scope: { model, namespace: ref.namespace, services }, registryOnly: false, generator: 'envoy' }, shared, routes);
  }

  listeners(): Map<string, XdsResource> {
    if (this.#listeners) return this.#listeners;
    const served: ServedService[] = servedServices(this.#model, this.#ref).map((svc) => {
      const policies = targetingPolicies(this.#model, this.#ref, svc);
      return {
        svc,
        scope: { model: this.#model, namespace: svc.namespace, services: visibleServices(this.#model.services, svc.namespace, undefined) },
        security: this.#shared.authzFilters(`waypoint|${policies.map(objectKey).join(',')}`, policies),
      };
    });
    const td = this.#model.trustDomain;
    const out = new Map<string, XdsResource>();
    for (const l of [connectTerminateListener(td), waypointMainInternal(served, this.#routes), connectOriginateListener()]) out.set(l.name, toResource(ListenerSchema, l.name, l));
    return (this.#listeners = out);
  }

  clusters(): Map<string, XdsResource> {
    if (this.#clusters) return this.#clusters;
    const out = new Map(this.scope.clusters());
    const { clusters, targets } = vipClusters(this.#model, servedServices(this.#model, this.#ref), this.#ref.namespace);
    for (const c of [mainInternalCluster(), connectOriginateCluster(this.#model.trustDomain), ...clusters]) out.set(c.name, toResource(ClusterSchema, c.name, c));
    this.#targets = new Map(targets.map((t) => [t.name, t]));
    return (this.#clusters = out);
  }

  edsNames(): ReadonlySet<string> {
    this.clusters();
    return (this.#edsNames ??= new Set([...this.scope.edsNames(), ...this.#targets!.keys()]));
  }

  endpoints(names: ReadonlySet<string> | undefined, eds: EndpointMemo): ResourceSet {
    this.clusters();
    const asked = names ?? this.edsNames();
    const outbound = this.scope.endpoints(new Set([...asked].filter((n) => !this.#targets!.has(n))), eds);
    const out = new Map(outbound);
    for (const n of asked) {
      const t = this.#targets!.get(n);
      if (!t) continue;
      let r = this.#cla.get(n);
      if (!r) this.#cla.set(n, (r = toResource(ClusterLoadAssignmentSchema, n, vipLoadAssignment(this.#model, t))));
      out.set(n, r);
    }
    return out;
  }
}
