/**
 * RBAC `metadata` matchers read the request's dynamic metadata, which only
 * other filters write: Istio's requestPrincipals look for
 * filter_metadata["istio_authn"]["request.auth.principal"], set by JWT
 * authentication. This proxy has no such filter yet, so every path is
 * missing and the outcome is known when the policy arrives: Envoy's value
 * matchers never match a missing value (present_match included), an or_match
 * matches when one of its matchers would, and `invert` flips the result.
 * Hence requestPrincipals never match and notRequestPrincipals always do.
 */
import type { MetadataMatcher } from '../../../gen/envoy/type/matcher/v3/metadata_pb.js';
import type { ValueMatcher } from '../../../gen/envoy/type/matcher/v3/value_pb.js';
function valueMatchesMissing(v: ValueMatcher | undefined, depth: number): boolean {
  if (!v || depth > 32) return false;
  const p = v.matchPattern;
  return p.case === 'orMatch' ? p.value.valueMatchers.some((m) => valueMatchesMissing(m, depth + 1)) : false;
}

/**
 * The constant a metadata matcher evaluates to on a request without dynamic
 * metadata; `notes` gets a line saying so (logged when the filter first runs:
 * compiling has no side effects).
 */
export function metadataOnEmpty(m: MetadataMatcher, path: string, errors: string[], notes: string[]): boolean {
  if (!m.filter) errors.push(`${path}.filter: missing`);
  if (m.path.length === 0) errors.push(`${path}.path: empty`);
  if (!m.value) errors.push(`${path}.value: missing`);
  const result = valueMatchesMissing(m.value, 0) !== m.invert;
  const key = m.path.map((s) => (s.segment.case === 'key' ? s.segment.value : '?')).join('.');
  notes.push(`${path}: metadata ${m.filter}/${key} is never set here (no JWT authentication filter yet): the matcher is always ${result}`);
  return result;
}
