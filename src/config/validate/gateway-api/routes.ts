/**
 * HTTPRoute, GRPCRoute, TCPRoute and TLSRoute (gateway.networking.k8s.io), with the CRDs'
 * limits and CEL rules: path values, filters whose config matches their
 * type and are not repeated, no redirect together with backends or with a
 * rewrite, replacePrefixMatch only with one PathPrefix match, a backend
 * timeout no longer than the request timeout.
 */
import { parseDuration } from '../../duration.js';
import { regexProblem, topLevel } from '../common.js';
import { bool, enumOf, int, obj, opaque, req, str, type Issue, type ObjectSchema } from '../schema.js';
import { backendObjectRef, backendRef, gwDuration, headerName, hostname, parentRefs, port, preciseHostname, uniqueBy, upTo } from './common.js';

const header = () => obj({ name: req(headerName()), value: req(str({ check: (s) => (s.length > 4096 ? 'must be at most 4096 characters' : undefined) })) });
const headerFilter = () =>
  obj({
    set: upTo(header(), 16, 0, uniqueBy((h) => String(h['name']).toLowerCase(), 'header names must be unique')),
    add: upTo(header(), 16, 0, uniqueBy((h) => String(h['name']).toLowerCase(), 'header names must be unique')),
    remove: upTo(str(), 16),
  });

const pathModifier = () =>
  obj({ type: req(enumOf('ReplaceFullPath', 'ReplacePrefixMatch')), replaceFullPath: str(), replacePrefixMatch: str() }, (m) => {
    const out: Issue[] = [];
    if (m['type'] === 'ReplaceFullPath' && m['replaceFullPath'] === undefined) out.push({ path: ['replaceFullPath'], message: "replaceFullPath must be specified when type is set to 'ReplaceFullPath'" });
    if (m['type'] !== 'ReplaceFullPath' && m['replaceFullPath'] !== undefined) out.push({ path: ['replaceFullPath'], message: "type must be 'ReplaceFullPath' when replaceFullPath is set" });
    if (m['type'] === 'ReplacePrefixMatch' && m['replacePrefixMatch'] === undefined) out.push({ path: ['replacePrefixMatch'], message: "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'" });
    if (m['type'] !== 'ReplacePrefixMatch' && m['replacePrefixMatch'] !== undefined) out.push({ path: ['replacePrefixMatch'], message: "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set" });
    return out;
  });

const filterFields = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
} as const;

/** A filter carries the config of its type and no other (the CRD's CEL rules). */
function filterCheck(f: Record<string, unknown>): Issue[] {
  const out: Issue[] = [];
  for (const [type, field] of Object.entries(filterFields)) {
    if (f['type'] === type && f[field] === undefined) out.push({ path: [field], message: `filter.${field} must be specified for ${type} filter.type` });
    if (f['type'] !== type && f[field] !== undefined) out.push({ path: [field], message: `filter.${field} must be nil if the filter.type is not ${type}` });
  }
  return out;
}

/** The filters an HTTPRoute rule (or a GRPCRoute rule, which has no redirect or rewrite) may use. */
export function routeFilter(types: readonly (keyof typeof filterFields)[]): ObjectSchema {
  return obj(
    {
      type: req(enumOf(...types)),
      requestHeaderModifier: headerFilter(),
      responseHeaderModifier: headerFilter(),
      requestMirror: obj({ backendRef: req(backendObjectRef()), percent: int(0, 100), fraction: obj({ numerator: req(int(0)), denominator: int(1) }) }, (m) =>
        m['percent'] !== undefined && m['fraction'] !== undefined ? [{ path: [], message: 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter' }] : []),
      requestRedirect: obj({ scheme: enumOf('http', 'https'), hostname: preciseHostname(), path: pathModifier(), port: port(), statusCode: int() }, (r) =>
        r['statusCode'] !== undefined && ![301, 302, 303, 307, 308].includes(r['statusCode'] as number) ? [{ path: ['statusCode'], message: 'must be one of 301, 302, 303, 307, 308' }] : []),
      urlRewrite: obj({ hostname: preciseHostname(), path: pathModifier() }),
      extensionRef: opaque(),
      cors: obj({ allowOrigins: upTo(str(), 64), allowCredentials: bool(), allowMethods: upTo(str(), 9), allowHeaders: upTo(str(), 64), exposeHeaders: upTo(str(), 64), maxAge: int(1) }),
      externalAuth: opaque(),
    },
    filterCheck,
  );
}

const httpFilterTypes = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS', 'ExternalAuth'] as const;

/** Exact and PathPrefix values: the CRD's CEL rules (an absolute path, nothing a proxy would normalise away). */
function pathValueCheck(p: Record<string, unknown>): Issue[] {
  const type = p['type'] ?? 'PathPrefix';
  const value = p['value'];
  if (typeof value !== 'string') return [];
  if (type === 'RegularExpression') {
    const bad = regexProblem(value);
    return bad === undefined ? [] : [{ path: ['value'], message: bad }];
  }
  const bad = (m: string): Issue[] => [{ path: ['value'], message: m }];
  if (!value.startsWith('/')) return bad('value must be an absolute path and start with \'/\' when type one of [\'Exact\', \'PathPrefix\']');
  if (value.includes('//')) return bad('must not contain \'//\' when type one of [\'Exact\', \'PathPrefix\']');
  if (value.includes('/./') || value.includes('/../') || value.endsWith('/.') || value.endsWith('/..')) return bad('must not contain \'/./\' or \'/../\' nor end with \'/.\' or \'/..\' when type one of [\'Exact\', \'PathPrefix\']');
  if (/%2f/i.test(value)) return bad('must not contain \'%2f\' or \'%2F\' when type one of [\'Exact\', \'PathPrefix\']');
  if (value.includes('#')) return bad('must not contain \'#\' when type one of [\'Exact\', \'PathPrefix\']');
  if (!/^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/.test(value)) return bad('must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&\'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types [\'Exact\', \'PathPrefix\']');
  return [];
}

const valueMatch = (valueCheck = true) =>
  obj({ type: enumOf('Exact', 'RegularExpression'), name: req(headerName()), value: req(str()) }, (m) => {
    if (!valueCheck || m['type'] !== 'RegularExpression' || typeof m['value'] !== 'string') return [];
    const bad = regexProblem(m['value']);
    return bad === undefined ? [] : [{ path: ['value'], message: bad }];
  });
const valueMatches = () => upTo(valueMatch(), 16, 0, uniqueBy((m) => String(m['name']).toLowerCase(), 'names must be unique within the match'));

const httpMatch = obj({
  path: obj({ type: enumOf('Exact', 'PathPrefix', 'RegularExpression'), value: str({ check: (s) => (s.length > 1024 ? 'must be at most 1024 characters' : undefined) }) }, pathValueCheck),
  headers: valueMatches(),
  queryParams: valueMatches(),
  method: enumOf('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'),
});

type Rule = { filters?: { type?: unknown; requestRedirect?: { path?: { type?: unknown } }; urlRewrite?: { path?: { type?: unknown } } }[]; backendRefs?: unknown[]; matches?: { path?: { type?: unknown } }[]; timeouts?: { request?: unknown; backendRequest?: unknown } };

/** The rule-level CEL rules of HTTPRoute. */
function httpRuleCheck(value: Record<string, unknown>): Issue[] {
  const r = value as Rule;
  const out: Issue[] = [];
  const filters = r.filters ?? [];
  const types = filters.map((f) => f.type);
  if ((r.backendRefs ?? []).length > 0 && types.includes('RequestRedirect')) out.push({ path: ['filters'], message: 'RequestRedirect filter must not be used together with backendRefs' });
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) out.push({ path: ['filters'], message: 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both' });
  for (const t of ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite']) {
    if (types.filter((x) => x === t).length > 1) out.push({ path: ['filters'], message: `${t} filter cannot be repeated` });
  }
  const prefixReplace = filters.some((f) => f.requestRedirect?.path?.type === 'ReplacePrefixMatch' || f.urlRewrite?.path?.type === 'ReplacePrefixMatch');
  const matches = r.matches ?? [];
  if (prefixReplace && !(matches.length === 1 && (matches[0]?.path?.type ?? 'PathPrefix') === 'PathPrefix')) {
    out.push({ path: ['filters'], message: 'When using a RequestRedirect or URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified' });
  }
  const request = typeof r.timeouts?.request === 'string' ? parseDuration(r.timeouts.request) : undefined;
  const backend = typeof r.timeouts?.backendRequest === 'string' ? parseDuration(r.timeouts.backendRequest) : undefined;
  if (request !== undefined && backend !== undefined && request !== 0 && backend > request) out.push({ path: ['timeouts', 'backendRequest'], message: 'backendRequest timeout cannot be longer than request timeout' });
  return out;
}

const httpRule = obj(
  {
    name: str(),
    matches: upTo(httpMatch, 64),
    filters: upTo(routeFilter(httpFilterTypes), 16),
    backendRefs: upTo(backendRef({ filters: upTo(routeFilter(httpFilterTypes), 16) }), 16),
    timeouts: obj({ request: gwDuration(), backendRequest: gwDuration() }),
    retry: obj({ codes: upTo(int(400, 599), 32), attempts: int(0), backoff: gwDuration() }),
    sessionPersistence: opaque(),
  },
  httpRuleCheck,
);

/** The whole route: "the total number of matches across all rules in a route must be less than 128". */
function totalMatches(rules: unknown[]): Issue[] {
  const total = rules.reduce<number>((n, r) => n + ((r as { matches?: unknown[] } | null)?.matches?.length ?? 0), 0);
  return total > 128 ? [{ path: [], message: `the total number of matches across all rules in a route must be at most 128 (got ${total})` }] : [];
}

export const httpRouteSchema: ObjectSchema = topLevel({
  spec: req(obj({ parentRefs: parentRefs(), hostnames: upTo(hostname(), 16), rules: upTo(httpRule, 16, 0, totalMatches), useDefaultGateways: str() })),
});

const grpcMethod = obj({ type: enumOf('Exact', 'RegularExpression'), service: str(), method: str() }, (m) => {
  const out: Issue[] = [];
  if (m['service'] === undefined && m['method'] === undefined) out.push({ path: [], message: 'One or both of \'service\' or \'method\' must be specified' });
  if ((m['type'] ?? 'Exact') === 'Exact') {
    if (typeof m['service'] === 'string' && !/^(?:[^.\/]+\.)*[^.\/]+$/.test(m['service'])) out.push({ path: ['service'], message: 'service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)' });
    if (typeof m['method'] === 'string' && !/^[^\/]+$/.test(m['method'])) out.push({ path: ['method'], message: 'method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)' });
  }
  return out;
});

const grpcFilterTypes = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef'] as const;

const grpcRule = obj({
  name: str(),
  matches: upTo(obj({ method: grpcMethod, headers: valueMatches() }), 64),
  filters: upTo(routeFilter(grpcFilterTypes), 16, 0, (list) =>
    ['RequestHeaderModifier', 'ResponseHeaderModifier'].flatMap((t) => (list.filter((f) => (f as { type?: unknown }).type === t).length > 1 ? [{ path: [], message: `${t} filter cannot be repeated` }] : []))),
  backendRefs: upTo(backendRef({ filters: upTo(routeFilter(grpcFilterTypes), 16) }), 16),
  sessionPersistence: opaque(),
});

export const grpcRouteSchema: ObjectSchema = topLevel({
  spec: req(obj({ parentRefs: parentRefs(), hostnames: upTo(hostname(), 16), rules: upTo(grpcRule, 16, 0, totalMatches) })),
});

/** TCPRoute and TLSRoute: rules of backends only (1..16 rules, 1..16 backends each). */
const l4Rule = obj({ name: str(), backendRefs: req(upTo(backendRef(), 16, 1)) });

export const tcpRouteSchema: ObjectSchema = topLevel({ spec: req(obj({ parentRefs: parentRefs(), rules: req(upTo(l4Rule, 16, 1)), useDefaultGateways: str() })) });
export const tlsRouteSchema: ObjectSchema = topLevel({
  spec: req(obj({ parentRefs: parentRefs(), hostnames: upTo(hostname(), 16), rules: req(upTo(l4Rule, 16, 1)), useDefaultGateways: str() })),
});

