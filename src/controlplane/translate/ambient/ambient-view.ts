/**
 * The workload API of one model: every ambient workload and service as an
 * Address resource, and the Authorizations that apply to an ambient
 * workload (from AuthorizationPolicies and PeerAuthentications), built once per model (the same for every node proxy; istiod
 * sends its whole table too) and shared by the generator and the analysis.
 */
import { create } from '@bufbuild/protobuf';
import type { AuthorizationPolicy, Pod } from '../../../config/objects.js';
import { GATEWAY_NAME_LABEL } from '../../../config/gateway-api.js';
import { AddressSchema } from '../../../gen/workloadapi/workload_pb.js';
import { Action, AuthorizationSchema, Scope, type Authorization } from '../../../gen/workloadapi/security/authorization_pb.js';
import { toResource, type ResourceSet, type XdsResource } from '../../wire/resource.js';
import { isEmpty, selectorMatches } from '../../registry/labels.js';
import type { MeshModel, MeshService } from '../../registry/model.js';
import { podAmbient, podNativeTunnel, serviceAmbient } from './enrollment.js';
import { authorizationName, convertPolicy } from './authorization.js';
import { inWorkloadApi, serviceMessage, serviceResourceName } from './services.js';
import { workloadMessage } from './workloads.js';
import { peerAuthenticationPolicy } from './peer-authentication.js';
import { bindWaypoint, waypointIndex, type WaypointBinding, type WaypointProblem } from './waypoints.js';

export interface AmbientView {
  /** Workloads by uid, services by "namespace/hostname". */
  readonly addresses: ResourceSet;
  /** By "namespace/name". */
  readonly authorizations: ResourceSet;
  /** Policies that apply to an ambient workload and lost L7 attributes in conversion, with what they lost. */
  readonly l7Losses: readonly { policy: AuthorizationPolicy; l7: readonly string[]; deny: boolean }[];
  /** The addresses of ambient pods (not HBONE sidecars): HBONE sidecars reach these over HBONE (translate/hbone/sidecar.ts). */
  readonly podIps: ReadonlySet<string>;
  /** use-waypoint labels that do not simply bind, by the object carrying the label (one per object and message). */
  readonly waypointProblems: readonly WaypointLabelProblem[];
}

export interface WaypointLabelProblem {
  readonly object: { kind: 'Pod' | 'Service' | 'Namespace'; namespace?: string; name: string };
  readonly problem: WaypointProblem;
}

interface Converted {
  policy: AuthorizationPolicy;
  authorization: Authorization;
  l7: readonly string[];
}

const views = new WeakMap<MeshModel, AmbientView>();

export function ambientView(model: MeshModel): AmbientView {
  let v = views.get(model);
  if (!v) views.set(model, (v = build(model)));
  return v;
}

/** The named subset (all of it for a wildcard subscription). */
export function named(set: ResourceSet, names: ReadonlySet<string> | undefined): ResourceSet {
  if (!names) return set;
  const out = new Map<string, XdsResource>();
  for (const n of names) {
    const r = set.get(n);
    if (r) out.set(n, r);
  }
  return out;
}

function build(model: MeshModel): AmbientView {
  const src = model.ambient;
  const waypoints = waypointIndex(model);
  // A waypoint's pods terminate HBONE themselves: sent like native-tunnel pods, so that node proxies resolve a
  // waypoint's GatewayAddress to them (istiod sends every pod; Trellis sends the ones a node proxy may tunnel to).
  const waypointPod = (p: Pod): boolean => {
    const gw = p.metadata.labels?.[GATEWAY_NAME_LABEL];
    return gw !== undefined && waypoints.has(`${p.metadata.namespace ?? 'default'}/${gw}`);
  };
  const nativeTunnel = (p: Pod): boolean => podNativeTunnel(p) || waypointPod(p);
  // Ambient pods, and pods whose sidecar terminates HBONE itself (sent as istiod sends them: native tunnel).
  const pods = src.pods.filter((p) => podAmbient(src, p) || nativeTunnel(p));
  // Policies are the node proxy's to enforce for ambient pods only: a sidecar enforces its own.
  const ambientPods = pods.filter((p) => podAmbient(src, p));
  const podsByNs = byNamespace(pods, (p) => p.metadata.namespace ?? 'default');
  const services = model.services.filter((s) => inWorkloadApi(s) && serviceAmbient(src, s, selectsAny(s, podsByNs.get(s.namespace) ?? [])));
  const servicesByNs = byNamespace(services, (s) => s.namespace);
  const converted: Converted[] = [];
  // Without ambient pods no policy applies: a sidecar-only mesh converts nothing.
  for (const policy of ambientPods.length > 0 ? src.authorizationPolicies : []) {
    const c = convertPolicy(policy, model.rootNamespace);
    if (c) converted.push({ policy, ...c });
  }
  const applying = converted.filter((c) => ambientPods.some((p) => applies(c, p, model.rootNamespace)));
  const addresses = new Map<string, XdsResource>();
  const problems = new Map<string, WaypointLabelProblem>();
  const bind = (kind: 'Pod' | 'Service', namespace: string, name: string, labels: Readonly<Record<string, string>>): WaypointBinding => {
    const b = bindWaypoint(model, waypoints, { kind: kind === 'Pod' ? 'workload' : 'service', namespace, labels });
    if (b.problem) {
      const object = b.problem.labelledBy === 'self' ? { kind, namespace, name } : { kind: 'Namespace' as const, name: namespace };
      problems.set(`${object.kind}/${namespace}/${object.name}|${b.problem.message}`, { object, problem: b.problem });
    }
    return b;
  };
  const authorizations = new Map(applying.map((c) => [nameOf(c.authorization), toResource(AuthorizationSchema, nameOf(c.authorization), c.authorization)] as const));
  for (const pod of pods) {
    const tunnelOnly = !podAmbient(src, pod);
    const policies = tunnelOnly ? [] : applying.filter((c) => c.authorization.scope === Scope.WORKLOAD_SELECTOR && applies(c, pod, model.rootNamespace)).map((c) => nameOf(c.authorization));
    // istiod lists the PeerAuthentication one after the AuthorizationPolicies.
    const mtls = tunnelOnly ? undefined : peerAuthenticationPolicy(model, pod);
    if (mtls) {
      policies.push(nameOf(mtls));
      if (!authorizations.has(nameOf(mtls))) authorizations.set(nameOf(mtls), toResource(AuthorizationSchema, nameOf(mtls), mtls));
    }
    const w = workloadMessage(pod, {
      trustDomain: model.trustDomain,
      services: (servicesByNs.get(pod.metadata.namespace ?? 'default') ?? []).filter((s) => selects(s, pod)),
      policies,
      waypoint: bind('Pod', pod.metadata.namespace ?? 'default', pod.metadata.name, pod.metadata.labels ?? {}).address,
    });
    if (w && nativeTunnel(pod)) w.nativeTunnel = true;
    if (w) addresses.set(w.uid, toResource(AddressSchema, w.uid, create(AddressSchema, { type: { case: 'workload', value: w } })));
  }
  for (const s of services) {
    const name = serviceResourceName(s.namespace, s.hostname);
    addresses.set(name, toResource(AddressSchema, name, create(AddressSchema, { type: { case: 'service', value: serviceMessage(s, bind('Service', s.namespace, s.name, s.labels).address) } })));
  }
  const l7Losses = applying.filter((c) => c.l7.length > 0).map((c) => ({ policy: c.policy, l7: c.l7, deny: c.authorization.action === Action.DENY }));
  // Ambient pods only: a sidecar that also terminates HBONE is still reached by sidecars over Istio mTLS
  // (departure from istiod's HBONE sending: the tunnel path does not yet carry all the sidecar path does).
  const podIps = new Set(ambientPods.flatMap((p) => (p.status?.podIPs?.length ? p.status.podIPs.map((x) => x.ip) : p.status?.podIP ? [p.status.podIP] : [])));
  return { addresses, authorizations, l7Losses, podIps, waypointProblems: [...problems.values()] };
}

const nameOf = (a: Authorization) => authorizationName(a.namespace, a.name);

function selects(s: MeshService, pod: Pod): boolean {
  return !isEmpty(s.selector) && selectorMatches(s.selector, pod.metadata.labels ?? {});
}

/** `pods`: those of the service's namespace. */
function selectsAny(s: MeshService, pods: readonly Pod[]): boolean {
  return pods.some((p) => selects(s, p));
}

function byNamespace<T>(items: readonly T[], ns: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    let list = out.get(ns(t));
    if (!list) out.set(ns(t), (list = []));
    list.push(t);
  }
  return out;
}

/** istiod's scoping: mesh-wide from the root namespace, namespace-wide, or by selector from the pod's namespace or the root one. */
function applies(c: Converted, pod: Pod, rootNamespace: string): boolean {
  const a = c.authorization;
  const ns = pod.metadata.namespace ?? 'default';
  if (a.scope === Scope.GLOBAL) return true;
  if (a.scope === Scope.NAMESPACE) return a.namespace === ns;
  return (a.namespace === ns || a.namespace === rootNamespace) && selectorMatches(c.policy.spec.selector?.matchLabels, pod.metadata.labels ?? {});
}
