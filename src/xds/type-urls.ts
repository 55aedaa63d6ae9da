/** Envoy v3 resource type URLs (and Istio's name table and workload API), and the order in which ADS must send them. */
export const TypeUrl = {
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  /** Istio's NDS: the host names a sidecar's agent answers DNS for (DNS proxying). */
  NameTable: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
  /** Istio's workload API (ambient mode): workloads and services, for node proxies (ztunnel). */
  Address: 'type.googleapis.com/istio.workload.Address',
  /** Istio's workload API: L4 authorization converted from AuthorizationPolicies. */
  Authorization: 'type.googleapis.com/istio.security.Authorization',
} as const;
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/**
 * Make-before-break order (Envoy's xDS protocol doc): clusters and their
 * endpoints before the listeners and routes that reference them.
 */
export const pushOrder: readonly TypeUrl[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
  TypeUrl.Secret,
  TypeUrl.NameTable,
  // istiod's order: addresses, then the policies workloads name.
  TypeUrl.Address,
  TypeUrl.Authorization,
];

/** Types whose empty subscription means "everything" (wildcard): in SotW, and in the first Delta request. */
export const wildcardTypes: ReadonlySet<string> = new Set([TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.NameTable, TypeUrl.Address, TypeUrl.Authorization]);

/**
 * Types served over Delta xDS only, as ztunnel asks for them: a SotW stream
 * asking for one is refused (INVALID_ARGUMENT, naming the Delta method).
 */
export const deltaOnlyTypes: ReadonlySet<string> = new Set([TypeUrl.Address, TypeUrl.Authorization]);

/** Short names used by istioctl and in /debug/syncz ("LDS", "CDS", ...). */
export const shortName: Record<TypeUrl, string> = {
  [TypeUrl.Listener]: 'LDS',
  [TypeUrl.RouteConfiguration]: 'RDS',
  [TypeUrl.Cluster]: 'CDS',
  [TypeUrl.ClusterLoadAssignment]: 'EDS',
  [TypeUrl.Secret]: 'SDS',
  [TypeUrl.NameTable]: 'NDS',
  [TypeUrl.Address]: 'WDS',
  [TypeUrl.Authorization]: 'WADS',
};

export function isKnownType(url: string): url is TypeUrl {
  return Object.prototype.hasOwnProperty.call(shortName, url);
}
