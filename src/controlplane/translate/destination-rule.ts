import { create } from '@bufbuild/protobuf';
import type { DestinationRule, Subset, TrafficPolicy } from '../../config/objects.js';
import {
  RouteAction_HashPolicySchema,
  RouteAction_HashPolicy_ConnectionPropertiesSchema,
  RouteAction_HashPolicy_CookieSchema,
  RouteAction_HashPolicy_HeaderSchema,
  RouteAction_HashPolicy_QueryParameterSchema,
  type RouteAction_HashPolicy,
} from '../../gen/envoy/config/route/v3/route_components_pb.js';
import type { RouteScope } from './routes/index.js';
import { istioDuration } from './common.js';

/** The four parts of a traffic policy that Istio merges, each replaced as a whole. */
export type PolicyParts = Pick<TrafficPolicy, 'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'tls'>;

function overlay(base: PolicyParts, top: PolicyParts | undefined): PolicyParts {
  if (!top) return base;
  return {
    loadBalancer: top.loadBalancer ?? base.loadBalancer,
    connectionPool: top.connectionPool ?? base.connectionPool,
    outlierDetection: top.outlierDetection ?? base.outlierDetection,
    tls: top.tls ?? base.tls,
  };
}

/** A policy with its portLevelSettings for `port` applied (port settings win field by field). */
function forPort(policy: TrafficPolicy | undefined, port: number): PolicyParts {
  if (!policy) return {};
  const own: PolicyParts = { loadBalancer: policy.loadBalancer, connectionPool: policy.connectionPool, outlierDetection: policy.outlierDetection, tls: policy.tls };
  return overlay(own, policy.portLevelSettings?.find((p) => p.port?.number === port));
}

/**
 * Istio's merge order for a cluster: the rule's top-level policy, then its
 * portLevelSettings for the port, then the subset's policy, then the
 * subset's portLevelSettings for the port. Each later part replaces an
 * earlier one wholesale (loadBalancer, connectionPool, outlierDetection, tls).
 */
export function effectivePolicy(dr: DestinationRule | undefined, port: number, subset: string | undefined): PolicyParts {
  if (!dr) return {};
  const base = forPort(dr.spec.trafficPolicy, port);
  const s = subset === undefined ? undefined : findSubset(dr, subset);
  return s?.trafficPolicy ? overlay(base, forPort(s.trafficPolicy, port)) : base;
}

export function findSubset(dr: DestinationRule | undefined, name: string): Subset | undefined {
  return dr?.spec.subsets?.find((s) => s.name === name);
}

/**
 * The route-side half of consistent hashing: Envoy hashes on the route, the
 * cluster only picks RING_HASH/MAGLEV. Empty when the effective policy for
 * this destination is not consistentHash.
 */
export function hashPolicyFor(scope: RouteScope, hostname: string, port: number, subset: string | undefined): RouteAction_HashPolicy[] {
  const dr = scope.model.destinationRule(hostname, scope.namespace);
  const ch = effectivePolicy(dr, port, subset).loadBalancer?.consistentHash;
  if (!ch) return [];
  if (ch.httpHeaderName) {
    return [create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'header', value: create(RouteAction_HashPolicy_HeaderSchema, { headerName: ch.httpHeaderName }) } })];
  }
  if (ch.httpCookie) {
    const cookie = create(RouteAction_HashPolicy_CookieSchema, { name: ch.httpCookie.name, path: ch.httpCookie.path ?? '', ttl: istioDuration(ch.httpCookie.ttl) });
    return [create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'cookie', value: cookie } })];
  }
  if (ch.useSourceIp) {
    return [create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'connectionProperties', value: create(RouteAction_HashPolicy_ConnectionPropertiesSchema, { sourceIp: true }) } })];
  }
  if (ch.httpQueryParameterName) {
    return [create(RouteAction_HashPolicySchema, { policySpecifier: { case: 'queryParameter', value: create(RouteAction_HashPolicy_QueryParameterSchema, { name: ch.httpQueryParameterName }) } })];
  }
  return [];
}
