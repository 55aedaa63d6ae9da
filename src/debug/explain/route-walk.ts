/**
 * Virtual host and route, as the connection manager looks them up (the
 * proxy's compiled RouteTable), and for every earlier route the first of its
 * conditions that failed (the proxy's own compiled conditions).
 */
import { toJson } from '@bufbuild/protobuf';
import type { RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { HeaderMatcherSchema, QueryParameterMatcherSchema, type Route } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import { compileRouteConditions, type RequestView } from '../../proxy/router/route-match.js';
import type { CompiledRoute, RouteTable } from '../../proxy/router/route-table.js';
import { citeMetadata } from './cite.js';
import type { Trail } from './trail.js';

export interface RouteLookup {
  vhost: string | undefined;
  route: CompiledRoute | undefined;
  /** The route's own message, for its metadata. */
  raw: Route | undefined;
}

export function lookupRoute(t: Trail, raw: RouteConfiguration | undefined, table: RouteTable, authority: string, view: RequestView): RouteLookup {
  const vh = table.virtualHost(authority);
  if (!vh) {
    t.add('virtual-host', `no virtual host of route configuration ${table.name} has a domain matching ${authority}`, [], undefined);
    return { vhost: undefined, route: undefined, raw: undefined };
  }
  const rawVh = raw?.virtualHosts.find((v) => v.name === vh.name);
  const domains = rawVh?.domains ?? [];
  t.add('virtual-host', `virtual host ${vh.name} (route configuration ${table.name})`, rawVh ? [`its domains ${domainMatch(domains, authority)} ${authority}`] : []);
  const why: string[] = [];
  for (const [i, r] of vh.routes.entries()) {
    const rawRoute = rawVh?.routes[i];
    const label = `route[${i}]${r.name ? ` ${r.name}` : ''}${cite(rawRoute)}`;
    if (r.match(view)) {
      t.add('route', `route ${r.name || `[${i}]`} matches${rawRoute ? `: ${conditionsText(rawRoute)}` : ''}`, why, citeMetadata(rawRoute?.metadata));
      return { vhost: vh.name, route: r, raw: rawRoute };
    }
    why.push(`${label} failed ${failedCondition(rawRoute, view)}`);
  }
  t.add('route', `no route of virtual host ${vh.name} matches ${view.path}`, why);
  return { vhost: vh.name, route: undefined, raw: undefined };
}

function cite(r: Route | undefined): string {
  const c = citeMetadata(r?.metadata);
  return c ? ` (${c})` : '';
}

function domainMatch(domains: readonly string[], authority: string): string {
  const a = authority.toLowerCase();
  if (domains.some((d) => d.toLowerCase() === a)) return 'include';
  return domains.includes('*') ? 'are "*", which takes' : 'match';
}

/** The first condition that does not hold, as its field and its config. */
function failedCondition(r: Route | undefined, view: RequestView): string {
  if (!r?.match) return 'its match';
  const conditions = compileRouteConditions(r.match, 'match', []);
  const i = conditions.findIndex((c) => !c.test(view));
  return i < 0 ? 'its match' : conditionText(r, conditions[i]!.field);
}

function conditionText(r: Route, field: string): string {
  const m = r.match!;
  const h = /^headers\[(\d+)\]$/.exec(field);
  if (h) return `headers ${JSON.stringify(toJson(HeaderMatcherSchema, m.headers[Number(h[1])]!))}`;
  const q = /^queryParameters\[(\d+)\]$/.exec(field);
  if (q) return `query ${JSON.stringify(toJson(QueryParameterMatcherSchema, m.queryParameters[Number(q[1])]!))}`;
  const p = m.pathSpecifier;
  const value = p.case === 'safeRegex' ? p.value.regex : p.case === 'connectMatcher' ? '' : p.value;
  return `${field} ${JSON.stringify(value)}`;
}

function conditionsText(r: Route): string {
  if (!r.match) return 'its match';
  return compileRouteConditions(r.match, 'match', []).map((c) => conditionText(r, c.field)).join(', ');
}
