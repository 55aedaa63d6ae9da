/**
 * Envoy's per-route CORS policy (envoy.extensions.filters.http.cors.v3.CorsPolicy
 * in typed_per_filter_config), compiled with the route. Envoy reads the
 * route's policy and the virtual host's: each field from the first of them
 * that sets it (route first), except filter_enabled and shadow_enabled, which
 * come from the most specific policy alone. Merged here once, so the filter
 * reads one plan per request.
 */
import type { Any } from '@bufbuild/protobuf/wkt';
import { CorsPolicySchema, type CorsPolicy } from '../../../gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import type { RuntimeFractionalPercent } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { compileStringMatcher, type StringPredicate } from '../../router/string-match.js';
import { unpackTyped } from '../../util.js';
import { ppm } from '../fault/fault-plan.js';

export const CORS_FILTER = 'envoy.filters.http.cors';

export interface CorsPlan {
  /** Origins allowed: any matcher matching the origin, or "*". Empty: none is. */
  readonly origins: readonly StringPredicate[];
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  readonly maxAge: string;
  readonly allowCredentials: boolean;
  readonly allowPrivateNetworkAccess: boolean;
  /** Preflights from origins not allowed go to the upstream (true) or get an empty 200 (false). */
  readonly forwardNotMatchingPreflights: boolean;
  /** Parts per million of requests the policy is enforced for (filter_enabled; unset: all). */
  readonly enabledPpm: number;
  /** Parts per million of requests only counted (shadow_enabled; unset: none). */
  readonly shadowPpm: number;
}

type Policy = { p: CorsPolicy; origins: StringPredicate[] };

/** The route's policy over the virtual host's; undefined when neither has one. */
export function compileCors(route: Any | undefined, vhost: Any | undefined, routePath: string, vhostPath: string, errors: string[]): CorsPlan | undefined {
  const policies = [compileOne(route, routePath, errors), compileOne(vhost, vhostPath, errors)].filter((x): x is Policy => x !== undefined);
  if (policies.length === 0) return undefined;
  const first = <T>(get: (p: CorsPolicy) => T | undefined, empty: T): T => {
    for (const { p } of policies) {
      const v = get(p);
      if (v !== undefined && v !== '') return v;
    }
    return empty;
  };
  const top = policies[0]!.p;
  return {
    origins: policies.find((x) => x.origins.length > 0)?.origins ?? [],
    allowMethods: first((p) => p.allowMethods, ''),
    allowHeaders: first((p) => p.allowHeaders, ''),
    exposeHeaders: first((p) => p.exposeHeaders, ''),
    maxAge: first((p) => p.maxAge, ''),
    allowCredentials: first((p) => p.allowCredentials, false),
    allowPrivateNetworkAccess: first((p) => p.allowPrivateNetworkAccess, false),
    forwardNotMatchingPreflights: first((p) => p.forwardNotMatchingPreflights, true),
    enabledPpm: top.filterEnabled ? fraction(top.filterEnabled) : 1_000_000,
    shadowPpm: top.shadowEnabled ? fraction(top.shadowEnabled) : 0,
  };
}

function compileOne(any: Any | undefined, path: string, errors: string[]): Policy | undefined {
  if (!any) return undefined;
  const p = unpackTyped(any, CorsPolicySchema, path, errors);
  if (!p) return undefined;
  return { p, origins: p.allowOriginStringMatch.map((m, i) => compileStringMatcher(m, `${path}.allowOriginStringMatch[${i}]`, errors)) };
}

/** Trellis has no runtime layer: a runtime key always reads its default. */
function fraction(r: RuntimeFractionalPercent): number {
  return ppm(r.defaultValue);
}

/** Envoy's isOriginAllowed: a matcher that matches "*" allows every origin. */
export function originAllowed(plan: CorsPlan, origin: string): boolean {
  for (const m of plan.origins) if (m('*') || m(origin)) return true;
  return false;
}
