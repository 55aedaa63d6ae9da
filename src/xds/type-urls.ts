/** Envoy v3 resource type URLs, and the order in which ADS must send them. */
export const TypeUrl = {
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
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
];

/** Types whose empty subscription means "everything" (wildcard) in SotW. */
export const wildcardTypes: ReadonlySet<string> = new Set([TypeUrl.Listener, TypeUrl.Cluster]);

/** Short names used by istioctl and in /debug/syncz ("LDS", "CDS", ...). */
export const shortName: Record<TypeUrl, string> = {
  [TypeUrl.Listener]: 'LDS',
  [TypeUrl.RouteConfiguration]: 'RDS',
  [TypeUrl.Cluster]: 'CDS',
  [TypeUrl.ClusterLoadAssignment]: 'EDS',
  [TypeUrl.Secret]: 'SDS',
};

export function isKnownType(url: string): url is TypeUrl {
  return Object.prototype.hasOwnProperty.call(shortName, url);
}
