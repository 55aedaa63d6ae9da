/** Compiles Envoy RouteMatch (path, headers, query parameters) into one predicate. */
import type { HeaderMatcher, QueryParameterMatcher, RouteMatch } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import { compileRegex, compileStringMatcher, type StringPredicate } from './string-match.js';
import type { Headers } from './header-ops.js';

/** The parts of a request routes look at, split once per request. */
export interface RequestView {
  path: string;
  /** Raw query string without '?', or '' when absent. */
  query: string;
  headers: Headers;
  /** Parsed lazily by the first query-parameter matcher. */
  params?: URLSearchParams;
  /** A CONNECT request: no path (it is '' here), only a connect_matcher matches it, as in Envoy. */
  connect?: boolean;
}

export type RoutePredicate = (r: RequestView) => boolean;

/** One condition of a RouteMatch: its field path inside the match (e.g. "headers[0]") and its test. */
export interface RouteCondition {
  field: string;
  test: RoutePredicate;
}

/**
 * A RouteMatch as its separate conditions, in Envoy's order (path, headers,
 * query parameters); a route matches when all hold. `trellis explain` walks
 * them to say which condition an earlier route failed.
 */
export function compileRouteConditions(m: RouteMatch | undefined, path: string, errors: string[]): RouteCondition[] {
  if (!m) {
    errors.push(`${path}: missing`);
    return [{ field: 'match', test: () => false }];
  }
  return [
    { field: m.pathSpecifier.case ?? 'pathSpecifier', test: compilePath(m, path, errors) },
    ...m.headers.map((h, i) => ({ field: `headers[${i}]`, test: compileHeaderMatcher(h, `${path}.headers[${i}]`, errors) })),
    ...m.queryParameters.map((q, i) => ({ field: `queryParameters[${i}]`, test: compileQueryMatcher(q, `${path}.queryParameters[${i}]`, errors) })),
  ];
}

export function compileRouteMatch(m: RouteMatch | undefined, path: string, errors: string[]): RoutePredicate {
  const parts = compileRouteConditions(m, path, errors).map((c) => c.test);
  if (parts.length === 1) return parts[0];
  return (r) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i](r)) return false;
    return true;
  };
}

function compilePath(m: RouteMatch, path: string, errors: string[]): RoutePredicate {
  const cs = m.caseSensitive ?? true;
  const s = m.pathSpecifier;
  switch (s.case) {
    case 'prefix': {
      if (s.value === '') return () => true;
      // Every path starts with '/'; a CONNECT has none, and "/" must not match it.
      if (s.value === '/') return (r) => r.path !== '';
      const x = cs ? s.value : s.value.toLowerCase();
      return cs ? (r) => r.path.startsWith(x) : (r) => r.path.toLowerCase().startsWith(x);
    }
    case 'path': {
      const x = cs ? s.value : s.value.toLowerCase();
      return cs ? (r) => r.path === x : (r) => r.path.toLowerCase() === x;
    }
    case 'pathSeparatedPrefix': {
      const x = s.value;
      return (r) => r.path === x || (r.path.startsWith(x) && r.path.charCodeAt(x.length) === 47 /* / */);
    }
    case 'safeRegex': {
      const re = compileRegex(s.value, `${path}.safeRegex`, errors);
      return re ? (r) => re.test(r.path) : () => false;
    }
    case 'connectMatcher': return (r) => r.connect === true;
    default:
      errors.push(`${path}.pathSpecifier: unsupported or missing (${s.case ?? 'unset'})`);
      return () => false;
  }
}

function headerValue(h: Headers, name: string): string | undefined {
  const v = h[name];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : v;
}

export function compileHeaderMatcher(h: HeaderMatcher, path: string, errors: string[]): RoutePredicate {
  const name = h.name.toLowerCase();
  if (!name) errors.push(`${path}.name: missing`);
  const s = h.headerMatchSpecifier;
  let test: StringPredicate;
  switch (s.case) {
    case 'exactMatch': { const x = s.value; test = (v) => v === x; break; }
    case 'prefixMatch': { const x = s.value; test = (v) => v.startsWith(x); break; }
    case 'suffixMatch': { const x = s.value; test = (v) => v.endsWith(x); break; }
    case 'containsMatch': { const x = s.value; test = (v) => v.includes(x); break; }
    case 'safeRegexMatch': {
      const re = compileRegex(s.value, `${path}.safeRegexMatch`, errors);
      test = re ? (v) => re.test(v) : () => false;
      break;
    }
    case 'stringMatch': test = compileStringMatcher(s.value, `${path}.stringMatch`, errors); break;
    case 'rangeMatch': {
      const { start, end } = s.value;
      test = (v) => /^-?\d+$/.test(v) && BigInt(v) >= start && BigInt(v) < end;
      break;
    }
    case 'presentMatch': {
      const want = s.value;
      const invert = h.invertMatch;
      return (r) => ((r.headers[name] !== undefined) === want) !== invert;
    }
    default: {
      // No specifier: Envoy treats it as a presence match.
      const invert = h.invertMatch;
      return (r) => (r.headers[name] !== undefined) !== invert;
    }
  }
  const invert = h.invertMatch;
  const missingAsEmpty = h.treatMissingHeaderAsEmpty;
  return (r) => {
    const v = headerValue(r.headers, name);
    if (v === undefined) return missingAsEmpty ? test('') !== invert : invert;
    return test(v) !== invert;
  };
}

function compileQueryMatcher(q: QueryParameterMatcher, path: string, errors: string[]): RoutePredicate {
  const name = q.name;
  if (!name) errors.push(`${path}.name: missing`);
  const s = q.queryParameterMatchSpecifier;
  const get = (r: RequestView) => (r.params ??= new URLSearchParams(r.query)).get(name);
  if (s.case === 'presentMatch') {
    const want = s.value;
    return (r) => (get(r) !== null) === want;
  }
  if (s.case === 'stringMatch') {
    const test = compileStringMatcher(s.value, `${path}.stringMatch`, errors);
    return (r) => {
      const v = get(r);
      return v !== null && test(v);
    };
  }
  // Envoy: no specifier means "present".
  return (r) => get(r) !== null;
}
