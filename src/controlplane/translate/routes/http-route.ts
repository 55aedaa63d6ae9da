/**
 * One Istio HTTPRoute → Envoy Routes (Istio's translateRoute): one Route per
 * match block that applies (blocks are ORed), a catch-all when there are none.
 */
import { create } from '@bufbuild/protobuf';
import {
  DecoratorSchema,
  DirectResponseActionSchema,
  RedirectActionSchema,
  RedirectAction_RedirectResponseCode as RedirectCode,
  RouteSchema,
  type Route,
} from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import { DataSourceSchema } from '../../../gen/envoy/config/core/v3/base_pb.js';
import type { HTTPDirectResponse, HTTPMatchRequest, HTTPRedirect, HTTPRoute } from '../../../config/objects.js';
import { logger } from '../../../log.js';
import { effectiveWeights, routeAction, type RouteContext } from './action.js';
import { CorsFilterName, corsConfig } from './cors.js';
import { FaultFilterName, faultConfig } from './fault.js';
import { headerOps, mergeHeaderOps } from './headers.js';
import { catchAllMatch, translateMatch } from './match.js';
import { parseClusterName } from '../names.js';
import { istioConfigMetadata, type SourceField } from '../common.js';

const log = logger('translate');

const redirectCodes: Record<number, RedirectCode> = {
  301: RedirectCode.MOVED_PERMANENTLY,
  302: RedirectCode.FOUND,
  303: RedirectCode.SEE_OTHER,
  307: RedirectCode.TEMPORARY_REDIRECT,
  308: RedirectCode.PERMANENT_REDIRECT,
};

/**
 * Routes for one HTTPRoute, in match order. Empty when no match block applies
 * to this port/proxy, or (for gRPC) when the route is a redirect or direct
 * response, which grpc-js-xds would reject.
 */
export function translateHttpRoute(r: HTTPRoute, ctx: RouteContext, field: string): Route[] {
  if (ctx.grpc && (r.redirect !== undefined || r.directResponse !== undefined)) return [];
  if (r.redirect === undefined && r.directResponse === undefined && (r.route ?? []).length === 0) {
    log.warn('skipping http route without destination, redirect or direct response', { field });
    return [];
  }
  const blocks: (HTTPMatchRequest | undefined)[] = r.match === undefined || r.match.length === 0 ? [undefined] : r.match;
  const out: Route[] = [];
  blocks.forEach((m, i) => {
    const match = m === undefined ? catchAllMatch() : translateMatch(m, ctx);
    if (match === undefined) return;
    const name = m?.name !== undefined && m.name !== '' ? `${r.name ?? ''}.${m.name}` : (r.name ?? '');
    const route = buildRoute(r, m, ctx, `${field}.match[${i}]`, create(RouteSchema, { name, match }));
    route.decorator = routeDecorator(route, ctx.vsName, ctx.port);
    route.metadata = istioConfigMetadata('virtual-service', ctx.vsNamespace, ctx.vsName, sourceField(r, field, m === undefined ? undefined : i));
    out.push(route);
  });
  return out;
}

/** "http[1]" or "http[1].match[0]" (from the translator's "VirtualService/NS/NAME.http[1]"), and route[k] of each cluster. */
function sourceField(r: HTTPRoute, field: string, match: number | undefined): SourceField {
  const at = field.lastIndexOf('.http[');
  const own = at >= 0 ? field.slice(at + 1) : field;
  const all = r.route ?? [];
  const out: SourceField = { field: match === undefined ? own : `${own}.match[${match}]` };
  if (r.redirect === undefined && r.directResponse === undefined && all.length > 0) out.routes = effectiveWeights(all).map(({ d }) => all.indexOf(d));
  return out;
}

function buildRoute(r: HTTPRoute, m: HTTPMatchRequest | undefined, ctx: RouteContext, field: string, route: Route): Route {
  let req = headerOps(r.headers?.request);
  let resp = headerOps(r.headers?.response);
  if (r.redirect !== undefined) {
    route.action = { case: 'redirect', value: redirectAction(r.redirect, field) };
  } else if (r.directResponse !== undefined) {
    route.action = { case: 'directResponse', value: directResponse(r.directResponse) };
  } else {
    route.action = { case: 'route', value: routeAction(r, m, ctx, field) };
    // A single destination's header operations belong to the route itself (Istio).
    const live = effectiveWeights(r.route ?? []);
    const only = live.length === 1 ? live[0]!.d : undefined;
    req = mergeHeaderOps(req, headerOps(only?.headers?.request));
    resp = mergeHeaderOps(resp, headerOps(only?.headers?.response));
  }
  route.requestHeadersToAdd = req.add;
  route.requestHeadersToRemove = req.remove;
  route.responseHeadersToAdd = resp.add;
  route.responseHeadersToRemove = resp.remove;
  const fault = faultConfig(r.fault, `${field}.fault`);
  if (fault !== undefined) route.typedPerFilterConfig[FaultFilterName] = fault;
  // Browsers send CORS, proxyless gRPC clients do not; grpc-js-xds NACKs a route config carrying a filter it lacks.
  const cors = ctx.grpc ? undefined : corsConfig(r.corsPolicy, `${field}.corsPolicy`);
  if (cors !== undefined) route.typedPerFilterConfig[CorsFilterName] = cors;
  return route;
}

function redirectAction(rd: HTTPRedirect, field: string) {
  const out = create(RedirectActionSchema, { hostRedirect: rd.authority ?? '', portRedirect: rd.port ?? 0 });
  if (rd.uri !== undefined && rd.uri !== '') out.pathRewriteSpecifier = { case: 'pathRedirect', value: rd.uri };
  if (rd.scheme !== undefined && rd.scheme !== '') out.schemeRewriteSpecifier = { case: 'schemeRedirect', value: rd.scheme };
  const code = redirectCodes[rd.redirectCode ?? 301];
  if (code === undefined) log.warn('unsupported redirect code, using 301', { field, code: rd.redirectCode });
  out.responseCode = code ?? RedirectCode.MOVED_PERMANENTLY;
  return out;
}

function directResponse(dr: HTTPDirectResponse) {
  const out = create(DirectResponseActionSchema, { status: dr.status });
  if (dr.body?.string !== undefined) out.body = create(DataSourceSchema, { specifier: { case: 'inlineString', value: dr.body.string } });
  else if (dr.body?.bytes !== undefined) out.body = create(DataSourceSchema, { specifier: { case: 'inlineBytes', value: Buffer.from(dr.body.bytes, 'base64') } });
  return out;
}

/**
 * Istio's getRouteOperation, the span name for tracing: "host:port" of the
 * single destination, else "vsName:port", then the matched path.
 */
export function routeDecorator(route: Route, vsName: string, port: number) {
  const p = route.match?.pathSpecifier;
  const path = p?.case === 'prefix' ? `${p.value}*` : p?.case === 'path' ? p.value : p?.case === 'safeRegex' ? p.value.regex : '/*';
  const action = route.action.case === 'route' ? route.action.value : undefined;
  const single = action?.clusterSpecifier.case === 'cluster' ? parseClusterName(action.clusterSpecifier.value) : undefined;
  const operation = single !== undefined ? `${single.hostname}:${single.port}${path}` : `${vsName}:${port}${path}`;
  return create(DecoratorSchema, { operation });
}
