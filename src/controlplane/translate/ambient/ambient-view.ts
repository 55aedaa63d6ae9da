/**
 * The workload API of one model: every ambient workload and service as an
 * Address resource, and the Authorizations that apply to an ambient
 * workload (from AuthorizationPolicies and PeerAuthentications), built once per model (the same for every node proxy; istiod
 * sends its whole table too) and shared by the generator and the analysis.
 */
import { create } from '@bufbuild/protobuf';
import type { AuthorizationPolicy, Pod } from '../../../config/objects.js';
import { AddressSchema } from '../../../gen/workloadapi/workload_pb.js';
import { Action, AuthorizationSchema, Scope, type Authorization } from '../../../gen/workloadapi/security/authorization_pb.js';
import { toResource, type ResourceSet, type XdsResource } from '../../wire/resource.js';
import { isEmpty, selectorMatches } from '../../registry/labels.js';
import type { MeshModel, MeshService } from '../../registry/model.js';
import { podAmbient, serviceAmbient } from './enrollment.js';
import { authorizationName, convertPolicy } from './authorization.js';
import { inWorkloadApi, serviceMessage, serviceResourceName } from './services.js';
import { workloadMessage } from './workloads.js';
import { peerAuthenticationPolicy } from './peer-authentication.js';

export interface AmbientView {
  /** Workloads by uid, services by "namespace/hostname". */
  readonly addresses: ResourceSet;
  /** By "namespace/name". */
  readonly authorizations: ResourceSet;
  /** Policies that apply to an ambient workload and lost L7 attributes in conversion, with what they lost. */
  readonly l7Losses: readonly { policy: AuthorizationPolicy; l7: readonly string[]; deny: boolean }[];
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
  const pods = src.pods.filter((p) => podAmbient(src, p));
  const podsByNs = byNamespace(pods, (p) => p.metadata.namespace ?? 'default');
  const services = model.services.filter((s) => inWorkloadApi(s) && serviceAmbient(src, s, selectsAny(s, podsByNs.get(s.namespace) ?? [])));
  const servicesByNs = byNamespace(services, (s) => s.namespace);
  const converted: Converted[] = [];
  // Without ambient pods no policy applies: a sidecar-only mesh converts nothing.
  for (const policy of pods.length > 0 ? src.authorizationPolicies : []) {
    const c = convertPolicy(policy, model.rootNamespace);
    if (c) converted.push({ policy, ...c });
  }
  const applying = converted.filter((c) => pods.some((p) => applies(c, p, model.rootNamespace)));
  const addresses = new Map<string, XdsResource>();
  const authorizations = new Map(applying.map((c) => [nameOf(c.authorization), toResource(AuthorizationSchema, nameOf(c.authorization), c.authorization)] as const));
  for (const pod of pods) {
    const policies = applying.filter((c) => c.authorization.scope === Scope.WORKLOAD_SELECTOR && applies(c, pod, model.rootNamespace)).map((c) => nameOf(c.authorization));
    // istiod lists the PeerAuthentication one after the AuthorizationPolicies.
    const mtls = peerAuthenticationPolicy(model, pod);
    if (mtls) {
      policies.push(nameOf(mtls));
      if (!authorizations.has(nameOf(mtls))) authorizations.set(nameOf(mtls), toResource(AuthorizationSchema, nameOf(mtls), mtls));
    }
    const w = workloadMessage(pod, {
      trustDomain: model.trustDomain,
      services: (servicesByNs.get(pod.metadata.namespace ?? 'default') ?? []).filter((s) => selects(s, pod)),
      policies,
    });
    if (w) addresses.set(w.uid, toResource(AddressSchema, w.uid, create(AddressSchema, { type: { case: 'workload', value: w } })));
  }
  for (const s of services) {
    const name = serviceResourceName(s.namespace, s.hostname);
    addresses.set(name, toResource(AddressSchema, name, create(AddressSchema, { type: { case: 'service', value: serviceMessage(s) } })));
  }
  const l7Losses = applying.filter((c) => c.l7.length > 0).map((c) => ({ policy: c.policy, l7: c.l7, deny: c.authorization.action === Action.DENY }));
  return { addresses, authorizations, l7Losses };
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
