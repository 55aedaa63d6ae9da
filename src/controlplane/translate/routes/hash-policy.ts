/**
 * DestinationRule consistentHash → RouteAction hash policy (Istio's
 * consistentHashToHashPolicy). Subset settings override port-level settings,
 * which override the rule's top-level traffic policy.
 */
import { create } from '@bufbuild/protobuf';
import {
  RouteAction_HashPolicySchema,
  RouteAction_HashPolicy_ConnectionPropertiesSchema,
  RouteAction_HashPolicy_CookieSchema,
  RouteAction_HashPolicy_HeaderSchema,
  RouteAction_HashPolicy_QueryParameterSchema,
  type RouteAction_HashPolicy,
} from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import type { DestinationRule } from '../../../config/objects.js';
import { effectivePolicy } from '../destination-rule.js';
import { parseDuration } from './values.js';

/** `dr` is the rule that applies to the destination host from the proxy's namespace. */
export function hashPolicies(dr: DestinationRule | undefined, port: number, subset: string | undefined): RouteAction_HashPolicy[] {
  // The cluster side (RING_HASH/MAGLEV) merges the same way: one effectivePolicy for both.
  const ch = effectivePolicy(dr, port, subset).loadBalancer?.consistentHash;
  if (ch === undefined) return [];
  let spec: RouteAction_HashPolicy['policySpecifier'] | undefined;
  if (ch.httpHeaderName !== undefined) {
    spec = { case: 'header', value: create(RouteAction_HashPolicy_HeaderSchema, { headerName: ch.httpHeaderName }) };
  } else if (ch.httpCookie !== undefined) {
    const cookie = create(RouteAction_HashPolicy_CookieSchema, { name: ch.httpCookie.name, path: ch.httpCookie.path ?? '' });
    const ttl = parseDuration(ch.httpCookie.ttl, 'consistentHash.httpCookie.ttl');
    if (ttl !== undefined) cookie.ttl = ttl;
    spec = { case: 'cookie', value: cookie };
  } else if (ch.useSourceIp) {
    spec = { case: 'connectionProperties', value: create(RouteAction_HashPolicy_ConnectionPropertiesSchema, { sourceIp: true }) };
  } else if (ch.httpQueryParameterName !== undefined) {
    spec = { case: 'queryParameter', value: create(RouteAction_HashPolicy_QueryParameterSchema, { name: ch.httpQueryParameterName }) };
  }
  return spec === undefined ? [] : [create(RouteAction_HashPolicySchema, { policySpecifier: spec })];
}
