/** Envoy v3 resource type URLs (and Istio's name table), and the order in which ADS must send them. */
export const TypeUrl = {
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  /** Istio's NDS: the host names a sidecar's agent answers DNS for (DNS proxying). */
  NameTable: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
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
];

/** Types whose empty subscription means "everything" (wildcard) in SotW. */
export const wildcardTypes: ReadonlySet<string> = new Set([TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.NameTable]);

/** Short names used by istioctl and in /debug/syncz ("LDS", "CDS", ...). */
export const shortName: Record<TypeUrl, string> = {
  [TypeUrl.Listener]: 'LDS',
  [TypeUrl.RouteConfiguration]: 'RDS',
  [TypeUrl.Cluster]: 'CDS',
  [TypeUrl.ClusterLoadAssignment]: 'EDS',
  [TypeUrl.Secret]: 'SDS',
  [TypeUrl.NameTable]: 'NDS',
};

export function isKnownType(url: string): url is TypeUrl {
  return Object.prototype.hasOwnProperty.call(shortName, url);
}
