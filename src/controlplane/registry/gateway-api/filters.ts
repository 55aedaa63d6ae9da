/**
 * HTTPRoute filters → the fields of an Istio HTTP route, as istiod's
 * create*Filter: header modifiers (names lower-cased, the first of a repeated
 * name kept), RequestRedirect, URLRewrite, RequestMirror, CORS.
 */
import type { HTTPCORSFilter, HTTPHeader, HTTPHeaderFilter, HTTPRequestMirrorFilter, HTTPRequestRedirectFilter, HTTPURLRewriteFilter } from '../../../config/gateway-api.js';
import type { CorsPolicy, HeaderOperations, HTTPRedirect, HTTPRewrite, StringMatch } from '../../../config/objects.js';

function headerMap(list: readonly HTTPHeader[] | undefined): Record<string, string> | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const out: Record<string, string> = {};
  // "Subsequent entries with an equivalent header name MUST be ignored."
  for (const h of list) if (!Object.hasOwn(out, h.name.toLowerCase())) out[h.name.toLowerCase()] = h.value;
  return out;
}

export function headerOperations(f: HTTPHeaderFilter): HeaderOperations {
  const add = headerMap(f.add);
  const set = headerMap(f.set);
  return { ...(add ? { add } : {}), ...(f.remove && f.remove.length > 0 ? { remove: [...f.remove] } : {}), ...(set ? { set } : {}) };
}

/** A redirect (a prefix replacement is reported by the caller: Trellis routes cannot say it). */
export function redirectOf(f: HTTPRequestRedirectFilter): HTTPRedirect {
  const out: HTTPRedirect = {};
  if (f.statusCode !== undefined) out.redirectCode = f.statusCode;
  if (f.hostname !== undefined) out.authority = f.hostname;
  if (f.scheme !== undefined) out.scheme = f.scheme;
  if (f.port !== undefined) out.port = f.port;
  if (f.path?.type === 'ReplaceFullPath' && f.path.replaceFullPath !== undefined) out.uri = f.path.replaceFullPath;
  return out;
}

export function rewriteOf(f: HTTPURLRewriteFilter): HTTPRewrite | undefined {
  const out: HTTPRewrite = {};
  if (f.path?.type === 'ReplacePrefixMatch' && f.path.replacePrefixMatch !== undefined) {
    // "/" removes the prefix; a trailing "/" is not part of the replacement.
    out.uri = f.path.replacePrefixMatch.replace(/\/$/, '') || '/';
  } else if (f.path?.type === 'ReplaceFullPath' && f.path.replaceFullPath !== undefined) {
    out.uriRegexRewrite = { match: '/.*', rewrite: f.path.replaceFullPath };
  }
  if (f.hostname !== undefined) out.authority = f.hostname;
  return out.uri === undefined && out.uriRegexRewrite === undefined && out.authority === undefined ? undefined : out;
}

/** The mirror's share: percent, or the fraction (denominator 100 by default) as a percentage. */
export function mirrorPercentage(f: HTTPRequestMirrorFilter): { value: number } | undefined {
  if (f.fraction !== undefined) return { value: (100 * f.fraction.numerator) / (f.fraction.denominator ?? 100) };
  return f.percent === undefined ? undefined : { value: f.percent };
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An origin pattern: "*" any well-formed origin, a trailing "*" a prefix, other "*"s any text, else exact. */
function originMatch(origin: string): StringMatch {
  if (origin === '*') return { regex: '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s?#]+$' };
  if (!origin.includes('*')) return { exact: origin };
  if (origin.indexOf('*') === origin.length - 1) return { prefix: origin.slice(0, -1) };
  return { regex: `^${escapeRegex(origin).replaceAll('\\*', '.*')}$` };
}

export function corsOf(f: HTTPCORSFilter): CorsPolicy {
  const out: CorsPolicy = {};
  const origins = (f.allowOrigins ?? []).filter((o) => o !== '').map(originMatch);
  if (origins.length > 0) out.allowOrigins = origins;
  if (f.allowCredentials === true) out.allowCredentials = true;
  if (f.allowMethods && f.allowMethods.length > 0) out.allowMethods = [...f.allowMethods];
  if (f.allowHeaders && f.allowHeaders.length > 0) out.allowHeaders = [...f.allowHeaders];
  if (f.exposeHeaders && f.exposeHeaders.length > 0) out.exposeHeaders = [...f.exposeHeaders];
  if (f.maxAge !== undefined && f.maxAge > 0) out.maxAge = `${f.maxAge}s`;
  out.unmatchedPreflights = 'IGNORE';
  return out;
}
