import { ClusterLoadAssignmentSchema } from '../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { LbEndpoint } from '../../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { toResource, type ResourceSet, type XdsResource } from '../wire/resource.js';
import type { MeshModel } from '../registry/model.js';
import { buildLoadAssignment, groupByLocality, lbEndpointMaker } from './endpoints.js';
import { localityLoadAssignment } from './locality/priorities.js';
import type { ProxyLocality } from './locality/proxy-locality.js';
import { proxyKey, type ClusterGroup, type EdsTarget } from './shared-cache.js';

/** Named EDS answers of one cluster group: one memo for everyone, or one per proxy locality key. */
interface GroupAnswers {
  readonly named: WeakMap<ReadonlySet<string>, ResourceSet>;
  readonly byProxy: Map<string, WeakMap<ReadonlySet<string>, ResourceSet>>;
}

/**
 * The ClusterLoadAssignments of one Generator, and its named EDS answers.
 * Kept apart from the clusters (SharedCache) because it is the one part an
 * endpoint-only change replaces: a derived Generator (incremental.ts) gets a
 * new EndpointMemo that keeps the assignments of every cluster whose service
 * did not change and rebuilds the others from the new model, while the
 * clusters, listeners and routes stay the previous Generator's objects.
 * Keys are EdsTarget identities, which those shared cluster sets own.
 */
export class EndpointMemo {
  readonly #cla: Map<EdsTarget, XdsResource>;
  readonly #byProxy: Map<EdsTarget, Map<string, XdsResource>>;
  readonly #answers = new WeakMap<ClusterGroup, GroupAnswers>();
  readonly #lbEndpoints = new Map<string, LbEndpoint>();

  /** `carried`: the previous memo and the hostnames whose endpoints changed since (their assignments are rebuilt). */
  constructor(readonly model: MeshModel, carried?: { from: EndpointMemo; changedHosts: ReadonlySet<string> }) {
    this.#cla = new Map();
    this.#byProxy = new Map();
    if (!carried) return;
    const keep = (t: EdsTarget) => !carried.changedHosts.has(t.hostname);
    for (const [t, r] of carried.from.#cla) if (keep(t)) this.#cla.set(t, r);
    for (const [t, m] of carried.from.#byProxy) if (keep(t)) this.#byProxy.set(t, m);
  }

  loadAssignment(t: EdsTarget): XdsResource {
    let hit = this.#cla.get(t);
    if (!hit) {
      hit = toResource(ClusterLoadAssignmentSchema, t.name, buildLoadAssignment(t.name, this.model.endpoints(t.hostname, t.port), t.subsetLabels, this.#lbEndpoints));
      this.#cla.set(t, hit);
    }
    return hit;
  }

  /** The assignment as `proxy` sees it: per locality (and failoverPriority labels) when the cluster balances by locality. */
  loadAssignmentFor(t: EdsTarget, proxy: ProxyLocality): XdsResource {
    const lb = t.lb;
    if (!lb) return this.loadAssignment(t);
    let byKey = this.#byProxy.get(t);
    if (!byKey) this.#byProxy.set(t, (byKey = new Map()));
    const key = proxyKey(proxy, lb.priorityLabels);
    let hit = byKey.get(key);
    if (!hit) {
      const groups = groupByLocality(this.model.endpoints(t.hostname, t.port), t.subsetLabels);
      hit = toResource(ClusterLoadAssignmentSchema, t.name, localityLoadAssignment(t.name, groups, lbEndpointMaker(this.#lbEndpoints), lb, proxy));
      byKey.set(key, hit);
    }
    return hit;
  }

  /** The memo of named answers for `group`, for everyone or for one proxy key (locality load balancing). */
  answers(group: ClusterGroup, proxy: string | undefined): WeakMap<ReadonlySet<string>, ResourceSet> {
    let a = this.#answers.get(group);
    if (!a) this.#answers.set(group, (a = { named: new WeakMap(), byProxy: new Map() }));
    if (proxy === undefined) return a.named;
    let hit = a.byProxy.get(proxy);
    if (!hit) a.byProxy.set(proxy, (hit = new WeakMap()));
    return hit;
  }
}
