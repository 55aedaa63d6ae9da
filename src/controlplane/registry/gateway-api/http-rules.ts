/**
 * HTTPRoute and GRPCRoute rules → Istio HTTP routes, as istiod's
 * convertHTTPRoute / convertGRPCRoute: one route per match (so that the
 * routes can be ordered by their match), named by the rule's name or
 * "NS.NAME.RULE", with the rule's filters, timeouts, retry and backends; no
 * backend with weight above 0 (and no redirect) is a 500, as the Gateway API
 * requires.
 */
import type { GRPCRouteMatch, GRPCRouteRule, HTTPRouteFilter, HTTPRouteMatch, HTTPRouteRule, KubernetesGRPCRoute, KubernetesHTTPRoute, ValueMatch } from '../../../config/gateway-api.js';
import type { HTTPMatchRequest, HTTPRoute, StringMatch } from '../../../config/objects.js';
import { parseDuration } from '../../../config/duration.js';
import { anyWeight, destinationOf, httpDestinations } from './backends.js';
import { nsOf, type ConvertContext } from './context.js';
import { corsOf, headerOperations, mirrorPercentage, redirectOf, rewriteOf } from './filters.js';

type Route = KubernetesHTTPRoute | KubernetesGRPCRoute;

function valueMatches(list: readonly ValueMatch[] | undefined): Record<string, StringMatch> | undefined {
  if (list === undefined || list.length === 0) return undefined;
  return Object.fromEntries(list.map((m) => [m.name, m.type === 'RegularExpression' ? { regex: m.value } : { exact: m.value }]));
}

/** Path (default PathPrefix "/", a trailing "/" ignored), headers, query parameters, method. */
function httpMatch(m: HTTPRouteMatch): HTTPMatchRequest {
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  const uri: StringMatch = type === 'Exact' ? { exact: value } : type === 'RegularExpression' ? { regex: value } : { prefix: value === '/' ? value : value.replace(/\/$/, '') };
  const headers = valueMatches(m.headers);
  const queryParams = valueMatches(m.queryParams);
  return { uri, ...(headers ? { headers } : {}), ...(queryParams ? { queryParams } : {}), ...(m.method ? { method: { exact: m.method } } : {}) };
}

/** gRPC's /SERVICE/METHOD as a path match (istiod's createGRPCURIMatch). */
function grpcMatch(m: GRPCRouteMatch): HTTPMatchRequest {
  const headers = valueMatches(m.headers);
  const out: HTTPMatchRequest = headers ? { headers } : {};
  const { service, method } = m.method ?? {};
  if (service === undefined && method === undefined) return out;
  const exact = (m.method?.type ?? 'Exact') === 'Exact';
  if (method === undefined) out.uri = exact ? { prefix: `/${service}/` } : { regex: `/${service}/.+` };
  else if (service === undefined) out.uri = { regex: `/[^/]+/${method}` };
  else out.uri = exact ? { exact: `/${service}/${method}` } : { regex: `/${service}/${method}` };
  return out;
}

/** The rule's filters onto `r`; what cannot be served is reported. */
function applyFilters(r: HTTPRoute, filters: readonly HTTPRouteFilter[], route: Route, at: (string | number)[], ctx: ConvertContext): void {
  filters.forEach((f, i) => {
    const here = [...at, 'filters', i];
    switch (f.type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier': {
        const ops = f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier;
        if (ops) (r.headers ??= {})[f.type === 'RequestHeaderModifier' ? 'request' : 'response'] = headerOperations(ops);
        return;
      }
      case 'RequestRedirect':
        if (f.requestRedirect?.path?.type === 'ReplacePrefixMatch') ctx.report(route, [...here, 'requestRedirect', 'path'], 'unsupported', 'a redirect replacing the matched prefix is not implemented: the redirect keeps the path');
        if (f.requestRedirect) r.redirect = redirectOf(f.requestRedirect);
        return;
      case 'URLRewrite': {
        const rewrite = f.urlRewrite ? rewriteOf(f.urlRewrite) : undefined;
        if (rewrite) r.rewrite = rewrite;
        return;
      }
      case 'RequestMirror': {
        if (!f.requestMirror) return;
        // A mirror to nothing is no mirror (istiod leaves it out).
        const destination = destinationOf(f.requestMirror.backendRef, { route, path: [...here, 'requestMirror', 'backendRef'] }, ctx, false);
        const percentage = mirrorPercentage(f.requestMirror);
        if (destination) (r.mirrors ??= []).push({ destination, ...(percentage ? { percentage } : {}) });
        return;
      }
      case 'CORS':
        if (f.cors) r.corsPolicy = corsOf(f.cors);
        return;
      default:
        ctx.report(route, [...here, 'type'], 'unsupported', `filter ${f.type} is not supported: this rule is not served`);
        r.directResponse = { status: 500 };
    }
  });
}

/** Gateway API retry → Istio retries (istiod: connection errors always, plus the codes; 2 attempts by default). */
function retriesOf(retry: NonNullable<HTTPRouteRule['retry']>): HTTPRoute['retries'] {
  const attempts = retry.attempts ?? 2;
  const retryOn = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', ...(retry.codes ?? []).map(String)].join(',');
  return { attempts, ...(attempts > 0 ? { retryOn } : {}), ...(retry.backoff ? { backoff: retry.backoff } : {}) };
}

/** request → the route timeout; backendRequest → per try with a retry, else the route timeout. "0s" is no timeout. */
function applyTimeouts(r: HTTPRoute, t: NonNullable<HTTPRouteRule['timeouts']>): void {
  if (t.request !== undefined && parseDuration(t.request) !== 0) r.timeout = t.request;
  if (t.backendRequest === undefined || parseDuration(t.backendRequest) === 0) return;
  if (r.retries) r.retries.perTryTimeout = t.backendRequest;
  else r.timeout = t.backendRequest;
}

/** One rule with at most one match → one Istio route. */
function convertRule(route: Route, rule: HTTPRouteRule | GRPCRouteRule, index: number, match: HTTPMatchRequest | undefined, ctx: ConvertContext): HTTPRoute {
  const at = ['spec', 'rules', index];
  const r: HTTPRoute = { name: rule.name ?? `${nsOf(route)}.${route.metadata.name}.${index}` };
  if (match !== undefined) r.match = [match];
  applyFilters(r, rule.filters ?? [], route, at, ctx);
  const http = rule as HTTPRouteRule;
  if (http.retry) r.retries = retriesOf(http.retry);
  if (http.timeouts) applyTimeouts(r, http.timeouts);
  if (r.directResponse !== undefined || r.redirect !== undefined) return r;
  const route_ = anyWeight(rule.backendRefs) ? httpDestinations(rule.backendRefs ?? [], { route, path: [...at, 'backendRefs'] }, ctx) : [];
  if (route_.length === 0) r.directResponse = { status: 500 };
  else r.route = route_;
  return r;
}

/** Every rule of an HTTPRoute or GRPCRoute, split by match, in rule order. */
export function httpRoutesOf(route: Route, ctx: ConvertContext): HTTPRoute[] {
  const out: HTTPRoute[] = [];
  const rules: readonly (HTTPRouteRule | GRPCRouteRule)[] = route.spec.rules ?? [];
  rules.forEach((rule, index) => {
    const matches: (HTTPMatchRequest | undefined)[] =
      route.kind === 'HTTPRoute' ? ((rule as HTTPRouteRule).matches ?? []).map(httpMatch) : ((rule as GRPCRouteRule).matches ?? []).map(grpcMatch);
    // No match is every request: a route without a match (ordered last), as istiod has it.
    if (matches.length === 0) matches.push(undefined);
    for (const m of matches) out.push(convertRule(route, rule, index, m !== undefined && Object.keys(m).length === 0 ? undefined : m, ctx));
  });
  return out;
}
