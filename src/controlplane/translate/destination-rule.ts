import type { DestinationRule, Subset, TrafficPolicy } from '../../config/objects.js';

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
