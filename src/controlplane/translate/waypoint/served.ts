/**
 * What a waypoint proxy serves (istiod's findWaypointResources): the
 * Services whose use-waypoint binds them to its Gateway, and the
 * AuthorizationPolicies attached to it by targetRef(s) — to the Gateway
 * (every service it serves) or to a Service (that one).
 */
import { GATEWAY_NAME_LABEL, WAYPOINT_CLASS } from '../../../config/gateway-api.js';
import type { AuthorizationPolicy, PolicyTargetReference } from '../../../config/objects.js';
import type { ProxyNode } from '../../../xds/proxy-node.js';
import type { MeshModel, MeshService } from '../../registry/model.js';
import { inWorkloadApi } from '../ambient/services.js';
import { bindWaypoint, waypointIndex, type WaypointRef } from '../ambient/waypoints.js';

/** The Gateway a proxy is the waypoint of: a `waypoint~` node, or one whose gateway-name label names a waypoint Gateway of its namespace. */
export function waypointOf(model: MeshModel, node: ProxyNode, labels: Readonly<Record<string, string>>): WaypointRef | undefined {
  const name = labels[GATEWAY_NAME_LABEL];
  // A waypoint node without the label is a waypoint of nothing: the HBONE listeners, no service.
  if (name === undefined) return node.type === 'waypoint' ? { namespace: node.namespace, name: '' } : undefined;
  const ref = { namespace: node.namespace, name };
  if (node.type === 'waypoint' || waypointIndex(model).has(`${ref.namespace}/${ref.name}`)) return ref;
  return undefined;
}

const served = new WeakMap<MeshModel, Map<string, MeshService[]>>();

/** Bound services by waypoint "namespace/name", built once per model; a waypoint that is not ready yet still serves its own (its pod is what makes it ready). */
export function servedServices(model: MeshModel, ref: WaypointRef): readonly MeshService[] {
  let all = served.get(model);
  if (!all) {
    all = new Map();
    const index = waypointIndex(model);
    for (const svc of model.services) {
      if (!inWorkloadApi(svc)) continue;
      const b = bindWaypoint(model, index, { kind: 'service', namespace: svc.namespace, labels: svc.labels });
      if (!b.waypoint) continue;
      const key = `${b.waypoint.namespace}/${b.waypoint.name}`;
      let list = all.get(key);
      if (!list) all.set(key, (list = []));
      list.push(svc);
    }
    served.set(model, all);
  }
  return all.get(`${ref.namespace}/${ref.name}`) ?? [];
}

function refsOf(p: AuthorizationPolicy): readonly PolicyTargetReference[] {
  return p.spec.targetRefs ?? (p.spec.targetRef ? [p.spec.targetRef] : []);
}

/** Whether a waypoint enforces `p`: each targetRef a Service, a waypoint Gateway of its namespace, or (from the root namespace) the waypoint class. */
export function attachedToWaypoint(model: MeshModel, p: AuthorizationPolicy): boolean {
  const ns = p.metadata.namespace ?? 'default';
  const index = waypointIndex(model);
  return refsOf(p).every((t) => t.kind === 'Service' || (t.kind === 'Gateway' && index.has(`${ns}/${t.name}`)) || (t.kind === 'GatewayClass' && t.name === WAYPOINT_CLASS));
}

/**
 * Policies of `namespace` attached by targetRef(s) to the waypoint's Gateway
 * and, with `service`, to that Service (istiod's NewBuilderForService for
 * waypoints); the root namespace's attached to the istio-waypoint class too.
 */
export function targetingPolicies(model: MeshModel, ref: WaypointRef, service?: MeshService): AuthorizationPolicy[] {
  return model.ambient.authorizationPolicies.filter((p) => {
    const ns = p.metadata.namespace ?? 'default';
    return refsOf(p).some((t) => {
      const kind = t.kind;
      if (kind === 'Gateway' && ns === ref.namespace && t.name === ref.name) return true;
      if (kind === 'GatewayClass' && ns === model.rootNamespace && t.name === WAYPOINT_CLASS) return true;
      return service !== undefined && kind === 'Service' && ns === service.namespace && t.name === service.name;
    });
  });
}
