/**
 * Waypoints in the workload API, as istiod binds them
 * (pilot/pkg/serviceregistry/ambient/waypoints.go): a Gateway API Gateway of
 * class istio-waypoint is a waypoint, reached at its Service
 * NAME.NAMESPACE.svc.DOMAIN on 15008; `istio.io/use-waypoint` (with
 * `istio.io/use-waypoint-namespace`) on a Service or Pod, else on its
 * Namespace, names the one its traffic goes through; `none` opts out;
 * `istio.io/waypoint-for` (Gateway, else GatewayClass; default "service")
 * says which traffic it takes.
 *
 * One departure, on purpose (the issue asks for it): a use-waypoint naming
 * a waypoint that does not exist or is not ready still binds the reference,
 * so the node proxy finds no waypoint address and refuses the traffic —
 * istiod leaves the waypoint out and the traffic silently bypasses L7
 * policy. The binding carries a problem saying so.
 */
import { create } from '@bufbuild/protobuf';
import { MESH_CONTROLLER, WAYPOINT_CLASS, type KubernetesGateway } from '../../../config/gateway-api.js';

export { MESH_CONTROLLER, WAYPOINT_CLASS };
import { GatewayAddressSchema, NamespacedHostnameSchema, type GatewayAddress } from '../../../gen/workloadapi/workload_pb.js';
import { labelSelectorMatches } from '../../registry/gateway-api/listeners.js';
import type { AmbientSource } from '../../registry/ambient-source.js';
import type { MeshModel } from '../../registry/model.js';

export const USE_WAYPOINT = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';
export const WAYPOINT_FOR = 'istio.io/waypoint-for';
/** gateway.istio.io/managed on what istiod's deployment controller makes for a waypoint (its Service, its pods). */
export const GATEWAY_MANAGED = 'gateway.istio.io/managed';
export const MANAGED_MESH_CONTROLLER = 'istio.io-mesh-controller';
export const HBONE_PORT = 15008;

export type TrafficType = 'service' | 'workload' | 'all' | 'none';

export interface Waypoint {
  readonly namespace: string;
  readonly name: string;
  readonly gateway: KubernetesGateway;
  readonly trafficType: TrafficType;
  /** NAME.NAMESPACE.svc.DOMAIN: the Service istiod's deployment controller makes for it. */
  readonly hostname: string;
  /** Its Service exists and has a ready endpoint (istiod: the Gateway has status addresses). */
  readonly ready: boolean;
}

export interface WaypointRef {
  readonly namespace: string;
  readonly name: string;
}

/** Why a use-waypoint does not simply bind (istiod's status reasons). */
export interface WaypointProblem {
  readonly reason: 'WaypointIsNotReady' | 'WaypointNotFound' | 'AttachmentDenied' | 'UnsupportedTrafficType';
  readonly message: string;
  /** "namespace/name" of the waypoint asked for. */
  readonly waypoint: string;
  /** The object whose label asked for it: the Service, the Pod or the Namespace. */
  readonly labelledBy: 'self' | 'namespace';
}

export interface WaypointBinding {
  /** What the Workload or Service carries; undefined: no waypoint. */
  readonly address?: GatewayAddress;
  readonly waypoint?: WaypointRef;
  readonly problem?: WaypointProblem;
}

const key = (r: WaypointRef) => `${r.namespace}/${r.name}`;

/** istiod's GetUseWaypoint: the named waypoint, `none` (an opt-out), or nothing. */
export function useWaypoint(labels: Readonly<Record<string, string>>, defaultNamespace: string): WaypointRef | 'none' | undefined {
  const name = labels[USE_WAYPOINT];
  if (name === undefined) return undefined;
  if (name === 'none') return 'none';
  return { namespace: labels[USE_WAYPOINT_NAMESPACE] ?? defaultNamespace, name };
}

function isWaypointClass(source: AmbientSource, gw: KubernetesGateway): boolean {
  const className = gw.spec.gatewayClassName;
  return className === WAYPOINT_CLASS || source.gatewayClass(className)?.spec.controllerName === MESH_CONTROLLER;
}

function trafficTypeOf(source: AmbientSource, gw: KubernetesGateway): TrafficType {
  const t = gw.metadata.labels?.[WAYPOINT_FOR] ?? source.gatewayClass(gw.spec.gatewayClassName)?.metadata.labels?.[WAYPOINT_FOR] ?? 'service';
  return t === 'workload' || t === 'all' || t === 'none' ? t : 'service';
}

export function waypointHostname(ref: WaypointRef, domainSuffix: string): string {
  return `${ref.name}.${ref.namespace}.svc.${domainSuffix}`;
}

/** istiod's getGatewayAddress for a hostname: the namespace and the Service's hostname, HBONE on 15008. */
export function gatewayAddress(ref: WaypointRef, domainSuffix: string): GatewayAddress {
  return create(GatewayAddressSchema, {
    destination: { case: 'hostname', value: create(NamespacedHostnameSchema, { namespace: ref.namespace, hostname: waypointHostname(ref, domainSuffix) }) },
    hboneMtlsPort: HBONE_PORT,
  });
}

const indexes = new WeakMap<MeshModel, ReadonlyMap<string, Waypoint>>();

/** Every waypoint of the config, by "namespace/name"; built once per model. */
export function waypointIndex(model: MeshModel): ReadonlyMap<string, Waypoint> {
  let hit = indexes.get(model);
  if (!hit) indexes.set(model, (hit = buildIndex(model)));
  return hit;
}

function buildIndex(model: MeshModel): ReadonlyMap<string, Waypoint> {
  const out = new Map<string, Waypoint>();
  for (const gw of model.ambient.gateways) {
    if (!isWaypointClass(model.ambient, gw)) continue;
    const ref = { namespace: gw.metadata.namespace ?? 'default', name: gw.metadata.name };
    const hostname = waypointHostname(ref, model.domainSuffix);
    const ready = model.endpoints(hostname, HBONE_PORT).some((e) => e.ready);
    out.set(key(ref), { ...ref, gateway: gw, trafficType: trafficTypeOf(model.ambient, gw), hostname, ready });
  }
  return out;
}

/** istiod's AllowsAttachmentFromNamespace, read from the HBONE listener (15008) or, without one, Same. */
function allowsAttachment(source: AmbientSource, w: Waypoint, namespace: string): boolean {
  const listener = w.gateway.spec.listeners.find((l) => l.protocol === 'HBONE' && l.port === HBONE_PORT);
  const from = listener?.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return w.namespace === namespace;
  const selector = listener?.allowedRoutes?.namespaces?.selector;
  return selector !== undefined && labelSelectorMatches(selector, { 'kubernetes.io/metadata.name': namespace, ...source.namespaceLabels(namespace) });
}

export interface BindTarget {
  kind: 'service' | 'workload';
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * The waypoint of a Service or a Pod: its own label, else its Namespace's
 * (istiod's fetchWaypointForService / fetchWaypointForWorkload).
 */
export function bindWaypoint(model: MeshModel, index: ReadonlyMap<string, Waypoint>, target: BindTarget): WaypointBinding {
  // A waypoint's own Service never goes through a waypoint.
  if (target.kind === 'service' && target.labels[GATEWAY_MANAGED] === MANAGED_MESH_CONTROLLER) return {};
  const own = useWaypoint(target.labels, target.namespace);
  if (own === 'none') return {};
  const labelledBy = own ? 'self' : 'namespace';
  const ref = own ?? useWaypoint(model.ambient.namespaceLabels(target.namespace), target.namespace);
  if (ref === undefined || ref === 'none') return {};
  const w = index.get(key(ref));
  const name = JSON.stringify(key(ref));
  const problem = (reason: WaypointProblem['reason'], message: string): WaypointProblem => ({ reason, message, waypoint: key(ref), labelledBy });
  const address = gatewayAddress(ref, model.domainSuffix);
  if (!w) {
    return { address, waypoint: ref, problem: problem('WaypointNotFound', `no Gateway of class ${WAYPOINT_CLASS} named ${name}`) };
  }
  if (!allowsAttachment(model.ambient, w, target.namespace)) {
    return { problem: problem('AttachmentDenied', `we are not permitted to attach to waypoint ${name} (missing allowedRoutes?)`) };
  }
  if (w.trafficType !== 'all' && w.trafficType !== target.kind) {
    // Inherited from the namespace, a waypoint for the other kind of traffic is the normal case, not a mistake.
    if (labelledBy === 'namespace' && target.kind === 'workload') return {};
    return { problem: problem('UnsupportedTrafficType', `attempting to bind to traffic type "${target.kind}" which the waypoint ${name} does not support`) };
  }
  if (!w.ready) {
    return { address, waypoint: ref, problem: problem('WaypointIsNotReady', `waypoint ${name} is not ready: its Service ${w.hostname} has no ready endpoint on ${HBONE_PORT}`) };
  }
  return { address, waypoint: ref };
}
