/**
 * Istio HTTPMatchRequest → Envoy RouteMatch (Istio's translateRouteMatch).
 * A match that cannot apply to this proxy or listener port (port, gateways,
 * sourceLabels, sourceNamespace) yields undefined and is skipped.
 */
import { create } from '@bufbuild/protobuf';
import {
  HeaderMatcherSchema,
  QueryParameterMatcherSchema,
  RouteMatchSchema,
  type HeaderMatcher,
  type QueryParameterMatcher,
  type RouteMatch,
} from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import type { HTTPMatchRequest, StringMatch } from '../../../config/objects.js';
import { re2, sortedEntries, stringMatcher } from './values.js';

/** Who is asking and on which port: decides which match blocks apply. */
export interface MatchContext {
  port: number;
  namespace: string;
  labels: Readonly<Record<string, string>> | undefined;
  /**
   * Set for a router proxy: the gateways ("ns/name") the listener serves. A
   * match naming gateways then applies when it names one of these; unset
   * (a sidecar), it applies when it names "mesh".
   */
  gateways?: ReadonlySet<string>;
  /** The VirtualService's namespace: a gateway named without one is in it. */
  vsNamespace?: string;
  /** Converted from the Gateway API: a prefix matches whole path segments (see RouteContext). */
  gatewaySemantics?: boolean;
}

/** The catch-all match: Istio emits prefix "/" for a route without match blocks. */
export function catchAllMatch(): RouteMatch {
  return create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } });
}

/** The conditions HTTP, TCP and TLS match blocks share: about the proxy and port, not the request. */
export interface ProxyConditions {
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
}

/** Does a match block apply to this proxy on this port? (Istio skips blocks that do not.) */
export function matchApplies(m: ProxyConditions, ctx: MatchContext): boolean {
  if (m.port !== undefined && m.port !== ctx.port) return false;
  if (m.gateways !== undefined && m.gateways.length > 0 && !namesThisProxy(m.gateways, ctx)) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== ctx.namespace) return false;
  // Without the proxy's labels Istio cannot prove the source matches, so the block is skipped.
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (ctx.labels?.[k] !== v) return false;
  return true;
}

function namesThisProxy(gateways: readonly string[], ctx: MatchContext): boolean {
  const served = ctx.gateways;
  if (served === undefined) return gateways.includes('mesh');
  return gateways.some((g) => served.has(qualifiedGatewayName(g, ctx.vsNamespace ?? ctx.namespace)));
}

/** "name" → "ns/name" in the VirtualService's namespace, as istiod resolves a VirtualService's gateways. */
export function qualifiedGatewayName(name: string, vsNamespace: string): string {
  return name.includes('/') ? name : `${vsNamespace}/${name}`;
}

export function translateMatch(m: HTTPMatchRequest, ctx: MatchContext): RouteMatch | undefined {
  if (!matchApplies(m, ctx)) return undefined;
  const out = create(RouteMatchSchema, { pathSpecifier: pathSpecifier(m.uri, ctx.gatewaySemantics === true) });
  if (m.ignoreUriCase) out.caseSensitive = false;
  const pseudo: [string, StringMatch | undefined][] = [[':method', m.method], [':authority', m.authority], [':scheme', m.scheme]];
  for (const [name, sm] of pseudo) if (sm !== undefined) out.headers.push(headerMatcher(name, sm, false));
  for (const [name, sm] of sortedEntries(m.headers)) out.headers.push(headerMatcher(name.toLowerCase(), sm, false));
  for (const [name, sm] of sortedEntries(m.withoutHeaders)) out.headers.push(headerMatcher(name.toLowerCase(), sm, true));
  for (const [name, sm] of sortedEntries(m.queryParams)) out.queryParameters.push(queryMatcher(name, sm));
  return out;
}

/** Gateway API PathPrefix "/a" matches "/a" and "/a/b", never "/ab": Envoy's path_separated_prefix (istiod). */
function pathSpecifier(uri: StringMatch | undefined, gatewaySemantics: boolean): RouteMatch['pathSpecifier'] {
  if (uri?.exact !== undefined) return { case: 'path', value: uri.exact };
  if (uri?.regex !== undefined) return { case: 'safeRegex', value: re2(uri.regex) };
  if (gatewaySemantics && uri?.prefix !== undefined && uri.prefix !== '/') return { case: 'pathSeparatedPrefix', value: uri.prefix.replace(/\/$/, '') };
  return { case: 'prefix', value: uri?.prefix ?? '/' };
}

/** An empty StringMatch ({}) means "header present" (inverted: "absent"), as in Istio. */
function headerMatcher(name: string, sm: StringMatch, invert: boolean): HeaderMatcher {
  const matcher = stringMatcher(sm);
  return create(HeaderMatcherSchema, {
    name,
    invertMatch: invert,
    headerMatchSpecifier: matcher === undefined ? { case: 'presentMatch', value: true } : { case: 'stringMatch', value: matcher },
  });
}

/** Envoy's query matcher has StringMatcher (exact/prefix/regex) or presence; an empty match is presence. */
function queryMatcher(name: string, sm: StringMatch): QueryParameterMatcher {
  const matcher = stringMatcher(sm);
  return create(QueryParameterMatcherSchema, {
    name,
    queryParameterMatchSpecifier: matcher === undefined ? { case: 'presentMatch', value: true } : { case: 'stringMatch', value: matcher },
  });
}

/** A match with no conditions besides prefix "/": every later route is unreachable. */
export function isCatchAll(m: RouteMatch): boolean {
  return m.pathSpecifier.case === 'prefix' && m.pathSpecifier.value === '/' && m.headers.length === 0 && m.queryParameters.length === 0 && m.runtimeFraction === undefined;
}
