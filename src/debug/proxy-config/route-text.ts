/**
 * How istioctl describes routes in one short phrase: a match ("/api*",
 * "PathPrefix:/api", "regex ^/v[0-9]"), and an inline route configuration
 * ("Cluster: outbound|80||web" when it sends everything to one cluster, else
 * "Inline Route: DOMAINS MATCHES; ..."). Shared by the listeners and routes
 * tables.
 */
import type { RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import type { RouteMatch, VirtualHost } from '../../gen/envoy/config/route/v3/route_components_pb.js';

/** Header matches are left out, as istioctl leaves them. */
export function describeMatch(m: RouteMatch | undefined): string {
  const p = m?.pathSpecifier;
  switch (p?.case) {
    case 'prefix': return p.value === '' ? '' : `${p.value}*`;
    case 'pathSeparatedPrefix': return `PathPrefix:${p.value}`;
    case 'path': return p.value;
    case 'safeRegex': return `regex ${p.value.regex}`;
    default: return '';
  }
}

/** "Cluster: NAME", or the name alone when it already says Cluster (PassthroughCluster). */
export function clusterText(name: string): string {
  return name.includes('Cluster') ? name : `Cluster: ${name}`;
}

function matchAllCluster(rc: RouteConfiguration): string {
  if (rc.virtualHosts.length !== 1) return '';
  const vh = rc.virtualHosts[0]!;
  if (vh.domains.length !== 1 || vh.domains[0] !== '*' || vh.routes.length !== 1) return '';
  const r = vh.routes[0]!;
  if (r.match?.pathSpecifier.case !== 'prefix' || r.match.pathSpecifier.value !== '/') return '';
  if (r.action.case !== 'route' || r.action.value.clusterSpecifier.case !== 'cluster') return '';
  return clusterText(r.action.value.clusterSpecifier.value);
}

function describeVhost(vh: VirtualHost): string {
  const routes = vh.routes.map((r) => describeMatch(r.match)).join(', ');
  const domains = vh.domains.length === 1 && vh.domains[0] === '*' ? '' : vh.domains.join('/');
  return domains === '' ? routes : `${domains} ${routes}`;
}

export function describeRouteConfig(rc: RouteConfiguration): string {
  return matchAllCluster(rc) || `Inline Route: ${rc.virtualHosts.map(describeVhost).join('; ')}`;
}
