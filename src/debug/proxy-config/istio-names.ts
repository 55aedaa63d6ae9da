/**
 * Istio's names and metadata as istioctl reads them back: subset keys
 * ("outbound|9080|v1|reviews.default.svc.cluster.local", "inbound|9080||"),
 * and `filter_metadata.istio.config` paths rendered "name.namespace".
 */
import type { Metadata } from '../../gen/envoy/config/core/v3/base_pb.js';

export interface SubsetKey {
  direction: string;
  port: number;
  subset: string;
  fqdn: string;
}

/**
 * Istio's ParseSubsetKey, for the names istioctl parses: four or more
 * "|"-separated parts (a name with more has no host, as in Istio); undefined
 * for any other name (BlackHoleCluster, PassthroughCluster, xds-grpc).
 */
export function parseSubsetKey(name: string): SubsetKey | undefined {
  const parts = name.split('|');
  if (parts.length < 4) return undefined;
  const [direction, port, subset, fqdn] = parts as [string, string, string, string];
  return { direction, port: Number.parseInt(port, 10) || 0, subset, fqdn: parts.length === 4 ? fqdn : '' };
}

/** The Istio config object behind a resource, "name.namespace", from its istio.config metadata; "" when there is none. */
export function describeManagement(metadata: Metadata | undefined): string {
  const config = metadata?.filterMetadata['istio']?.config;
  return typeof config === 'string' ? renderConfig(config) : '';
}

/** "/apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME" → "NAME.NS"; another kind of path is "<unknown>". */
export function renderConfig(path: string): string {
  if (!path.startsWith('/apis/networking.istio.io/')) return '<unknown>';
  const pieces = path.split('/');
  return pieces.length === 8 ? `${pieces[7]}.${pieces[5]}` : '';
}
