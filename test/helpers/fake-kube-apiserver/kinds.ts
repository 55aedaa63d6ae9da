/**
 * The resources the double serves, as the real API server's discovery
 * describes them: group, the versions served (Istio's CRDs serve several,
 * with one storage and no conversion, so an object reads the same at every
 * version), the plural used in URLs, the kind, and whether it is namespaced.
 * `builtIn` kinds are compiled into kube-apiserver: their list items carry
 * no kind/apiVersion, while a custom resource's list items do.
 */
export interface ResourceDef {
  group: string;
  versions: readonly string[];
  plural: string;
  kind: string;
  namespaced: boolean;
  builtIn: boolean;
  /** Only POST (create) exists, nothing is stored: TokenReview. */
  virtual?: boolean;
}

const core = (plural: string, kind: string, namespaced = true): ResourceDef => ({ group: '', versions: ['v1'], plural, kind, namespaced, builtIn: true });
const networking = (plural: string, kind: string): ResourceDef => ({ group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], plural, kind, namespaced: true, builtIn: false });
const security = (plural: string, kind: string): ResourceDef => ({ group: 'security.istio.io', versions: ['v1', 'v1beta1'], plural, kind, namespaced: true, builtIn: false });

export const resourceDefs: readonly ResourceDef[] = [
  core('namespaces', 'Namespace', false),
  core('services', 'Service'),
  core('pods', 'Pod'),
  core('serviceaccounts', 'ServiceAccount'),
  core('configmaps', 'ConfigMap'),
  core('secrets', 'Secret'),
  { group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true, builtIn: true },
  { group: 'coordination.k8s.io', versions: ['v1'], plural: 'leases', kind: 'Lease', namespaced: true, builtIn: true },
  { group: 'admissionregistration.k8s.io', versions: ['v1'], plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false, builtIn: true },
  { group: 'authentication.k8s.io', versions: ['v1'], plural: 'tokenreviews', kind: 'TokenReview', namespaced: false, builtIn: true, virtual: true },
  networking('virtualservices', 'VirtualService'),
  networking('destinationrules', 'DestinationRule'),
  networking('serviceentries', 'ServiceEntry'),
  networking('workloadentries', 'WorkloadEntry'),
  networking('sidecars', 'Sidecar'),
  networking('gateways', 'Gateway'),
  security('peerauthentications', 'PeerAuthentication'),
  security('authorizationpolicies', 'AuthorizationPolicy'),
  security('requestauthentications', 'RequestAuthentication'),
  { group: 'telemetry.istio.io', versions: ['v1', 'v1alpha1'], plural: 'telemetries', kind: 'Telemetry', namespaced: true, builtIn: false },
];

export function apiVersion(def: ResourceDef, version: string): string {
  return def.group === '' ? version : `${def.group}/${version}`;
}

/** "pods", "leases.coordination.k8s.io": how the API server names a resource in messages. */
export function qualifiedName(def: ResourceDef): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

export function defForKind(kind: string): ResourceDef {
  const def = resourceDefs.find((d) => d.kind === kind);
  if (!def) throw new Error(`fake kube-apiserver: no resource for kind ${kind}`);
  return def;
}
