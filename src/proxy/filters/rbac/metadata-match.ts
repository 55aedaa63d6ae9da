/**
 * RBAC `metadata` matchers read the request's dynamic metadata, which other
 * filters write: Istio's requestPrincipals and request.auth.* look at
 * filter_metadata["envoy.filters.http.jwt_authn"]["payload"][claim], set by
 * JWT authentication (filters/jwt/). A request without metadata (no JWT
 * filter on the chain, no token, the network filter) is decided by a
 * constant computed at compile time, so RBAC without JWT costs what it did:
 * Envoy's value matchers never match a missing value (present_match
 * included), an or_match matches when one of its matchers would, and
 * `invert` flips the result.
 */
import type { MetadataMatcher } from '../../../gen/envoy/type/matcher/v3/metadata_pb.js';
import type { ValueMatcher } from '../../../gen/envoy/type/matcher/v3/value_pb.js';
import { compileStringMatcher } from '../../router/string-match.js';

/** Dynamic metadata: filter name → a JSON-like structure (Envoy's Struct). */
export type DynamicMetadata = Record<string, Record<string, unknown>>;

type ValuePredicate = (v: unknown) => boolean;

const MAX_DEPTH = 32;

function valueMatchesMissing(v: ValueMatcher | undefined, depth: number): boolean {
  if (!v || depth > MAX_DEPTH) return false;
  const p = v.matchPattern;
  return p.case === 'orMatch' ? p.value.valueMatchers.some((m) => valueMatchesMissing(m, depth + 1)) : false;
}

/** Envoy's ValueMatcher on a Struct value (undefined: the path is not there). */
function compileValue(v: ValueMatcher | undefined, path: string, errors: string[], depth = 0): ValuePredicate {
  if (!v || depth > MAX_DEPTH) {
    errors.push(`${path}: ${v ? `nested deeper than ${MAX_DEPTH}` : 'missing'}`);
    return () => false;
  }
  const p = v.matchPattern;
  switch (p.case) {
    case 'nullMatch': return (x) => x === null;
    case 'presentMatch': return p.value ? (x) => x !== undefined : () => false;
    case 'boolMatch': return (x) => x === p.value;
    case 'stringMatch': {
      const m = compileStringMatcher(p.value, `${path}.stringMatch`, errors);
      return (x) => typeof x === 'string' && m(x);
    }
    case 'doubleMatch': {
      const d = p.value.matchPattern;
      if (d.case === 'exact') return (x) => x === d.value;
      if (d.case === 'range') {
        const { start, end } = d.value;
        return (x) => typeof x === 'number' && x >= start && x < end;
      }
      errors.push(`${path}.doubleMatch: missing`);
      return () => false;
    }
    case 'listMatch': {
      const inner = p.value.matchPattern;
      if (inner.case !== 'oneOf') {
        errors.push(`${path}.listMatch.oneOf: missing`);
        return () => false;
      }
      const m = compileValue(inner.value, `${path}.listMatch.oneOf`, errors, depth + 1);
      return (x) => Array.isArray(x) && x.some(m);
    }
    case 'orMatch': {
      const ms = p.value.valueMatchers.map((x, i) => compileValue(x, `${path}.orMatch.valueMatchers[${i}]`, errors, depth + 1));
      return (x) => ms.some((m) => m(x));
    }
    default:
      errors.push(`${path}: unsupported value matcher ${p.case ?? '(none set)'}`);
      return () => false;
  }
}

/**
 * A metadata matcher as a predicate on the request's dynamic metadata.
 * `onEmpty` is its value when the request has none: the RBAC compiler uses
 * it to keep policies on chains without a metadata-writing filter constant.
 */
export function compileMetadataMatcher(m: MetadataMatcher, path: string, errors: string[]): { onEmpty: boolean; match: (md: DynamicMetadata | undefined) => boolean } {
  if (!m.filter) errors.push(`${path}.filter: missing`);
  if (m.path.length === 0) errors.push(`${path}.path: empty`);
  const keys = m.path.map((s, i) => {
    if (s.segment.case !== 'key') errors.push(`${path}.path[${i}]: only key segments are supported`);
    return s.segment.case === 'key' ? s.segment.value : '';
  });
  const value = compileValue(m.value, `${path}.value`, errors);
  const onEmpty = valueMatchesMissing(m.value, 0) !== m.invert;
  const filter = m.filter;
  const invert = m.invert;
  return {
    onEmpty,
    match: (md) => {
      let x: unknown = md?.[filter];
      if (x === undefined) return onEmpty;
      for (const k of keys) {
        if (x === null || typeof x !== 'object' || Array.isArray(x)) {
          x = undefined;
          break;
        }
        x = (x as Record<string, unknown>)[k];
      }
      return value(x) !== invert;
    },
  };
}
