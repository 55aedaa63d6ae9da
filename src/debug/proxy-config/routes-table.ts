/**
 * istioctl proxy-config routes: NAME, VHOST NAME, DOMAINS, MATCH, VIRTUAL
 * SERVICE, one row per route (routes to PassthroughCluster left out), a
 * virtual host without routes as "/*  404". DOMAINS shows the shortest names
 * a client uses (the FQDN is dropped when its short form is there), at most
 * two and "+ N more". VIRTUAL SERVICE is the route's istio.config metadata.
 */
import type { RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import type { Route } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import type { Row } from '../format/table.js';
import { describeManagement } from './istio-names.js';
import { describeMatch } from './route-text.js';

export const ROUTES_HEADER: Row = ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'];

function isPassthrough(r: Route): boolean {
  return r.action.case === 'route' && r.action.value.clusterSpecifier.case === 'cluster' && r.action.value.clusterSpecifier.value === 'PassthroughCluster';
}

/** Drops "x.ns.svc.cluster.local" and "x.ns.svc" when "x.ns" (or "x") is also there; keeps the order. */
function unexpandDomains(domains: readonly string[]): string[] {
  const all = new Set(domains);
  const drop = new Set<string>();
  for (const h of domains) {
    for (const suffix of ['.svc.cluster.local', '.svc']) {
      if (h.endsWith(suffix) && all.has(h.slice(0, -suffix.length))) drop.add(h);
    }
  }
  return domains.filter((d) => !drop.has(d));
}

export function describeRouteDomains(domains: readonly string[]): string {
  if (domains.length === 0) return '';
  if (domains.length === 1) return domains[0]!;
  // Names without ":PORT"; a bracketed IPv6 address without a port counts as a name.
  const withoutPort = unexpandDomains(domains.filter((d) => !d.includes(':') || ((d.match(/:/g)?.length ?? 0) > 2 && d.endsWith(']'))));
  return withoutPort.length > 2 ? `${withoutPort.slice(0, 2).join(', ')} + ${withoutPort.length - 2} more...` : withoutPort.join(', ');
}

/** Numeric names ("9080") in numeric order first, as istioctl sorts; the others keep the dump's order. */
export function sortRoutes(routes: readonly RouteConfiguration[]): RouteConfiguration[] {
  const numeric = (r: RouteConfiguration) => (/^\d+$/.test(r.name) ? Number(r.name) : Infinity);
  return [...routes].sort((a, b) => numeric(a) - numeric(b) || 0);
}

export function routeRows(routes: readonly RouteConfiguration[], name: string | undefined, named = false): Row[] {
  const rows: Row[] = [];
  for (const rc of sortRoutes(routes)) {
    if (name && rc.name !== name) continue;
    const first = named ? [`route/${rc.name}`] : [rc.name];
    for (const vh of rc.virtualHosts) {
      const domains = describeRouteDomains(vh.domains);
      for (const r of vh.routes) if (!isPassthrough(r)) rows.push([...first, vh.name, domains, describeMatch(r.match), describeManagement(r.metadata)]);
      if (vh.routes.length === 0) rows.push([...first, vh.name, domains, '/*', '404']);
    }
  }
  return rows;
}
