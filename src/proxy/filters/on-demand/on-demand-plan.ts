/**
 * envoy.filters.http.on_demand's config compiled (pure): only its on-demand
 * CDS part is run here. `odcds` must take clusters from the ADS stream
 * (source: ads) — the only stream a proxy configured over ADS has; an
 * xdstp:// resources_locator or another config source is refused (the
 * listener NACKed), as a filter we cannot run as configured must not be
 * silently skipped. Without odcds the filter does nothing: Envoy would then
 * run on-demand VHDS, which needs VHDS routes (not served here).
 */
import type { OnDemand } from '../../../gen/envoy/extensions/filters/http/on_demand/v3/on_demand_pb.js';
import { durationMs } from '../../util.js';

export const ON_DEMAND_FILTER = 'envoy.filters.http.on_demand';
export const ON_DEMAND_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.on_demand.v3.OnDemand';

/** Envoy's default when odcds.timeout is unset (on_demand.proto). */
export const DEFAULT_ODCDS_TIMEOUT_MS = 5000;
const MAX_TIMER_MS = 2_147_483_647;

export interface OnDemandPlan {
  /** Absent: no on-demand CDS (the filter passes every request on). */
  odcds: { timeoutMs: number } | undefined;
}

export function compileOnDemand(cfg: OnDemand, path: string, errors: string[]): OnDemandPlan {
  const o = cfg.odcds;
  if (!o) return { odcds: undefined };
  const p = `${path}.odcds`;
  const source = o.source?.configSourceSpecifier.case;
  if (source !== 'ads') errors.push(`${p}.source: only ads is supported (got ${source ?? 'none'})`);
  if (o.resourcesLocator !== '') errors.push(`${p}.resourcesLocator: xdstp:// collections are not supported`);
  const timeoutMs = durationMs(o.timeout) ?? DEFAULT_ODCDS_TIMEOUT_MS;
  // A timer cannot run longer (Node fires it at once instead).
  if (timeoutMs < 0 || timeoutMs > MAX_TIMER_MS) errors.push(`${p}.timeout: must be between 0 and ${MAX_TIMER_MS} ms`);
  return { odcds: { timeoutMs } };
}
