/**
 * The Istio object behind a resource, for citing: istiod's
 * filter_metadata.istio.config ("/apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME"),
 * the field Trellis adds beside it (trellis.source), and the RBAC policy names
 * istiod gives AuthorizationPolicy rules ("ns[NS]-policy[NAME]-rule[N]").
 */
import type { Metadata } from '../../gen/envoy/config/core/v3/base_pb.js';

const KINDS: Record<string, string> = {
  'virtual-service': 'VirtualService',
  'destination-rule': 'DestinationRule',
  'peer-authentication': 'PeerAuthentication',
  'authorization-policy': 'AuthorizationPolicy',
  sidecar: 'Sidecar',
};

/**
 * "VirtualService shop/backend http[1].match[0]", or undefined when the
 * resource names no object; with `cluster` (the index of the route's cluster
 * the router chose) the VirtualService destination too: "http[3].route[1]".
 */
export function citeMetadata(md: Metadata | undefined, cluster?: number): string | undefined {
  const config = (md?.filterMetadata['istio'] as { config?: unknown } | undefined)?.config;
  if (typeof config !== 'string') return undefined;
  const m = /^\/apis\/[^/]+\/[^/]+\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(config);
  if (!m) return config;
  const source = md?.filterMetadata['trellis.source'] as { field?: unknown; routes?: unknown } | undefined;
  const field = typeof source?.field === 'string' ? source.field.replace(/\.match\[\d+\]$/, cluster === undefined ? '$&' : '') : undefined;
  const k = cluster !== undefined && Array.isArray(source?.routes) ? source.routes[cluster] : undefined;
  const dest = typeof k === 'number' ? `.route[${k}]` : '';
  return `${KINDS[m[2]!] ?? m[2]} ${m[1]}/${m[3]}${field !== undefined ? ` ${field}${dest}` : ''}`;
}

/** "AuthorizationPolicy shop/deny-admin rules[0]" for istiod's policy name; other names as they are. */
export function citeRbacPolicy(name: string): string {
  const m = /^(?:istio-ext-authz-.*-)?ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\]$/.exec(name);
  return m ? `AuthorizationPolicy ${m[1]}/${m[2]} rules[${m[3]}]` : name;
}
