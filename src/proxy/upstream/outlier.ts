/**
 * Outlier detection (Envoy's consecutive_5xx and consecutive_gateway_failure):
 * an endpoint that fails N times in a row is ejected from load balancing for
 * base_ejection_time × (times ejected), bounded by max_ejection_time, while no
 * more than max_ejection_percent of the cluster is ejected. Locally originated
 * failures (connect failure, reset, timeout) count as 5xx and gateway errors,
 * as in Envoy's default (split_external_local_origin_errors false).
 */
import type { OutlierDetection } from '../../gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { durationMs } from '../util.js';

export interface OutlierPlan {
  consecutive5xx: number;
  enforcing5xx: number;
  consecutiveGateway: number;
  enforcingGateway: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectionPercent: number;
}

export function compileOutlier(od: OutlierDetection | undefined): OutlierPlan | undefined {
  if (!od) return undefined;
  return {
    consecutive5xx: od.consecutive5xx ?? 5,
    enforcing5xx: od.enforcingConsecutive5xx ?? 100,
    consecutiveGateway: od.consecutiveGatewayFailure ?? 5,
    enforcingGateway: od.enforcingConsecutiveGatewayFailure ?? 0,
    baseEjectionMs: durationMs(od.baseEjectionTime) ?? 30_000,
    maxEjectionMs: durationMs(od.maxEjectionTime) ?? 300_000,
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
  };
}

/** Per-endpoint outlier state. */
export class OutlierState {
  consecutive5xx = 0;
  consecutiveGateway = 0;
  ejections = 0;
  ejected = false;
  timer: NodeJS.Timeout | undefined;
}

/** What one attempt did: an HTTP status, or a locally originated failure. */
export type AttemptResult = number | 'local-failure';

/** Updates the counters; true when the endpoint crossed a threshold that is enforced. */
export function recordResult(plan: OutlierPlan, s: OutlierState, r: AttemptResult): boolean {
  const is5xx = r === 'local-failure' || r >= 500;
  const isGateway = r === 'local-failure' || r === 502 || r === 503 || r === 504;
  if (!is5xx) {
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
    return false;
  }
  s.consecutive5xx++;
  if (isGateway) s.consecutiveGateway++;
  else s.consecutiveGateway = 0;
  const by5xx = plan.consecutive5xx > 0 && s.consecutive5xx >= plan.consecutive5xx && enforce(plan.enforcing5xx);
  const byGateway = plan.consecutiveGateway > 0 && s.consecutiveGateway >= plan.consecutiveGateway && enforce(plan.enforcingGateway);
  return by5xx || byGateway;
}

function enforce(percent: number): boolean {
  return percent >= 100 || (percent > 0 && Math.random() * 100 < percent);
}

export function ejectionMs(plan: OutlierPlan, ejections: number): number {
  return Math.min(plan.baseEjectionMs * ejections, Math.max(plan.baseEjectionMs, plan.maxEjectionMs));
}
