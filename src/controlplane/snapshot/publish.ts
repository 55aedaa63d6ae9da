/**
 * The control plane's decision on a prepared snapshot, with what it says
 * about it: kept out of control-plane.ts so that #push stays one call.
 */
import type { Logger } from '../../log.js';
import type { XdsMetrics } from '../metrics/xds-metrics.js';
import { summarise } from './consistency.js';
import type { Prepared } from './prepare.js';

/**
 * False when a reference dangles: the snapshot must not be published (the
 * caller keeps the last good generator and leaves the revision unpushed, so
 * the next change retries). Translation errors of single proxies are logged
 * and counted but do not hold back the others.
 */
export function publishable(p: Prepared, revision: number, log: Logger, metrics: XdsMetrics): boolean {
  if (p.failed.length > 0) {
    metrics.internalErrors.inc(undefined, p.failed.length);
    log.error('generate failed; those proxies keep their last config', { revision, failed: p.failed.slice(0, 20) });
  }
  if (p.dangling.length === 0) return true;
  metrics.inconsistentSnapshots.inc();
  log.error('snapshot not published: dangling references; keeping the last config', { revision, dangling: summarise(p.dangling) });
  return false;
}
