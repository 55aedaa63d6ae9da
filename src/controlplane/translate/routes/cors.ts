/**
 * Istio CorsPolicy → Envoy's per-route CorsPolicy
 * (envoy.extensions.filters.http.cors.v3), carried in the route's
 * typed_per_filter_config under the CORS filter's name, as istiod's
 * TranslateCORSPolicy writes it: origins as string matchers, the lists
 * joined with ",", maxAge in whole seconds, filter_enabled at 100 % and
 * preflights from other origins forwarded unless unmatchedPreflights is
 * IGNORE. The HCM lists the CORS filter for it (hcm.ts).
 */
import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { RuntimeFractionalPercentSchema } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { CorsPolicySchema } from '../../../gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { RegexMatcherSchema } from '../../../gen/envoy/type/matcher/v3/regex_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../../gen/envoy/type/matcher/v3/string_pb.js';
import { FractionalPercentSchema, FractionalPercent_DenominatorType } from '../../../gen/envoy/type/v3/percent_pb.js';
import type { CorsPolicy, StringMatch } from '../../../config/objects.js';
import { parseDuration } from './values.js';

export const CorsFilterName = 'envoy.filters.http.cors';

/** The packed CorsPolicy for a route, or undefined when the route has none. */
export function corsConfig(cors: CorsPolicy | undefined, field: string): Any | undefined {
  if (cors === undefined) return undefined;
  const out = create(CorsPolicySchema, {
    // istiod writes false only for IGNORE: true was Envoy's behaviour before forward_not_matching_preflights existed.
    forwardNotMatchingPreflights: cors.unmatchedPreflights !== 'IGNORE',
    allowOriginStringMatch: cors.allowOrigins !== undefined
      ? cors.allowOrigins.map(originMatcher).filter((m): m is StringMatcher => m !== undefined)
      : (cors.allowOrigin ?? []).map((exact) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: exact } })),
    filterEnabled: create(RuntimeFractionalPercentSchema, {
      defaultValue: create(FractionalPercentSchema, { numerator: 100, denominator: FractionalPercent_DenominatorType.HUNDRED }),
    }),
    allowCredentials: cors.allowCredentials,
    allowHeaders: (cors.allowHeaders ?? []).join(','),
    allowMethods: (cors.allowMethods ?? []).join(','),
    exposeHeaders: (cors.exposeHeaders ?? []).join(','),
  });
  const maxAge = parseDuration(cors.maxAge, `${field}.maxAge`);
  if (maxAge !== undefined) out.maxAge = String(maxAge.seconds);
  return anyPack(CorsPolicySchema, out);
}

/**
 * istiod's ConvertToEnvoyMatch: exact, prefix or a regex without an engine
 * (Envoy's default, RE2); an empty match gives no matcher.
 */
function originMatcher(m: StringMatch): StringMatcher | undefined {
  if (m.exact !== undefined) return create(StringMatcherSchema, { matchPattern: { case: 'exact', value: m.exact } });
  if (m.prefix !== undefined) return create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: m.prefix } });
  if (m.regex !== undefined) return create(StringMatcherSchema, { matchPattern: { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: m.regex }) } });
  return undefined;
}
