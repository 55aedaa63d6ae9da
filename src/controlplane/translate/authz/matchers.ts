/**
 * Istio's value syntax for AuthorizationPolicy strings as Envoy matchers
 * (istiod's security/authz/matcher): "*" alone is presence, a leading "*"
 * a suffix match, a trailing "*" a prefix match, anything else exact.
 */
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { CidrRangeSchema, type CidrRange } from '../../../gen/envoy/config/core/v3/address_pb.js';
import { TypedExtensionConfigSchema, type TypedExtensionConfig } from '../../../gen/envoy/config/core/v3/extension_pb.js';
import { HeaderMatcherSchema, type HeaderMatcher } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import { UriTemplateMatchConfigSchema } from '../../../gen/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.js';
import { MetadataMatcherSchema, MetadataMatcher_PathSegmentSchema, type MetadataMatcher } from '../../../gen/envoy/type/matcher/v3/metadata_pb.js';
import { PathMatcherSchema, type PathMatcher } from '../../../gen/envoy/type/matcher/v3/path_pb.js';
import { RegexMatcherSchema } from '../../../gen/envoy/type/matcher/v3/regex_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../../gen/envoy/type/matcher/v3/string_pb.js';
import { ListMatcherSchema, OrMatcherSchema, ValueMatcherSchema, type ValueMatcher } from '../../../gen/envoy/type/matcher/v3/value_pb.js';
import { parseIpPrefix } from '../../../config/ip-prefix.js';

export function exact(value: string, ignoreCase = false): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'exact', value }, ignoreCase });
}

export function prefix(value: string, ignoreCase = false): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'prefix', value }, ignoreCase });
}

export function suffix(value: string, ignoreCase = false): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'suffix', value }, ignoreCase });
}

export function regex(value: string): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: value }) } });
}

/** RE2's QuoteMeta: every character with a meaning in a regex is escaped. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * A value with `pfx` in front (principals get "spiffe://"): "*" is ".+"
 * (present, whatever the prefix), "*x" needs a regex once there is a
 * prefix, "x*" a prefix match, else exact.
 */
export function stringMatcher(v: string, pfx = ''): StringMatcher {
  if (v === '*') return regex('.+');
  if (v.startsWith('*')) return pfx === '' ? suffix(v.slice(1)) : regex(`${pfx}.*${quoteMeta(v.slice(1))}`);
  if (v.endsWith('*')) return prefix(pfx + v.slice(0, -1));
  return exact(pfx + v);
}

function header(name: string, v: string, ignoreCase: boolean): HeaderMatcher {
  // "*" must become presence: Envoy refuses an empty prefix or suffix.
  if (v === '*') return create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: 'presentMatch', value: true } });
  const m = v.startsWith('*') ? suffix(v.slice(1), ignoreCase) : v.endsWith('*') ? prefix(v.slice(0, -1), ignoreCase) : exact(v, ignoreCase);
  return create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: 'stringMatch', value: m } });
}

export function headerMatcher(name: string, v: string): HeaderMatcher {
  return header(name, v, false);
}

/** Hosts compare without case, as DNS names do. */
export function hostMatcher(name: string, v: string): HeaderMatcher {
  return header(name, v, true);
}

export function pathMatcher(v: string): PathMatcher {
  return create(PathMatcherSchema, { rule: { case: 'path', value: stringMatcher(v) } });
}

export const MatchOneTemplate = '{*}';
export const MatchAnyTemplate = '{**}';

export function containsPathTemplate(v: string): boolean {
  return v.includes(MatchOneTemplate) || v.includes(MatchAnyTemplate);
}

/** "/a/{*}/b/{**}" as Envoy's uri_template "/a/*\/b/**" (written as-is where already "*" or "**"). */
export function pathTemplate(v: string): TypedExtensionConfig {
  const pathTemplate = v.replaceAll(MatchAnyTemplate, '**').replaceAll(MatchOneTemplate, '*');
  return create(TypedExtensionConfigSchema, { name: 'uri-template', typedConfig: anyPack(UriTemplateMatchConfigSchema, create(UriTemplateMatchConfigSchema, { pathTemplate })) });
}

export function stringValue(m: StringMatcher): ValueMatcher {
  return create(ValueMatcherSchema, { matchPattern: { case: 'stringMatch', value: m } });
}

/** One matcher as itself, several OR-ed. */
export function orValues(matchers: readonly ValueMatcher[]): ValueMatcher {
  if (matchers.length === 1) return matchers[0]!;
  return create(ValueMatcherSchema, { matchPattern: { case: 'orMatch', value: create(OrMatcherSchema, { valueMatchers: [...matchers] }) } });
}

export function stringOrValues(values: readonly string[]): ValueMatcher {
  return orValues(values.map((v) => stringValue(stringMatcher(v))));
}

export function metadataMatcher(filter: string, path: readonly string[], value: ValueMatcher): MetadataMatcher {
  return create(MetadataMatcherSchema, {
    filter,
    path: path.map((key) => create(MetadataMatcher_PathSegmentSchema, { segment: { case: 'key', value: key } })),
    value,
  });
}

/**
 * A claim that may be a list or a single value (istiod's extended JWT
 * matcher): any list element matches, or the value itself does.
 */
export function listOrValueMatcher(filter: string, path: readonly string[], value: ValueMatcher): MetadataMatcher {
  const list = create(ValueMatcherSchema, { matchPattern: { case: 'listMatch', value: create(ListMatcherSchema, { matchPattern: { case: 'oneOf', value } }) } });
  return metadataMatcher(filter, path, orValues([list, value]));
}

/** An address or CIDR as Envoy's CidrRange; throws on anything else (validation refuses it first). */
export function cidrRange(v: string): CidrRange {
  const p = parseIpPrefix(v);
  if (!p) throw new Error(`invalid IP address or CIDR ${JSON.stringify(v)}`);
  return create(CidrRangeSchema, { addressPrefix: p.address, prefixLen: p.bits });
}
