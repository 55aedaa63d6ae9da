import type { Counter, Gauge, Histogram, Metrics } from './metrics.js';

/**
 * The control plane's metrics, named as istiod names them so that existing
 * dashboards and habits carry over. The `type` label is the lower-case short
 * name ("cds", "eds", "lds", "rds"), as in istiod.
 */
export interface XdsMetrics {
  /** pilot_xds_pushes{type}: responses sent. */
  pushes: Counter;
  /** pilot_proxy_convergence_time: push start → response sent to one proxy (seconds). */
  convergence: Histogram;
  /** pilot_xds: connected proxies (streams). */
  connected: Gauge;
  /** pilot_total_xds_rejects{type}: NACKs received. */
  rejects: Counter;
  /** pilot_total_xds_internal_errors: generator failures and the like. */
  internalErrors: Counter;
  /** pilot_xds_push_time: duration of a full push (seconds). */
  pushTime: Histogram;
  /** pilot_xds_config_size_bytes{type}: size of the resources in one response. */
  configSize: Histogram;
  /** trellis_config_problems: config problems currently known (rejected documents, conflicts, analysis findings). */
  configProblems: Gauge;
  /** pilot_k8s_cfg_events{type,event}: config objects added, updated and deleted (metrics/config-events.ts), as istiod counts its informers' events. */
  cfgEvents: Counter;
  /** pilot_push_triggers{type}: pushes by reason, "endpoint" (EDS-only, incremental) or "config" (full). */
  pushTriggers: Counter;
  /** trellis_config_source_up: 1 while the config source is readable, 0 while the last good config is served without it. */
  sourceUp: Gauge;
  /** trellis_inconsistent_snapshots: translated snapshots not published because a reference in them dangles (snapshot/consistency.ts). */
  inconsistentSnapshots: Counter;
}

const sizeBuckets = [1, 10_000, 100_000, 1_000_000, 10_000_000, 20_000_000, 30_000_000];
const convergenceBuckets = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 3, 5, 10, 20, 30];

/** Registers (or finds, when already registered) the xDS metrics in `m`. */
export function xdsMetrics(m: Metrics): XdsMetrics {
  return {
    pushes: m.counter('pilot_xds_pushes', 'Pilot build and send errors for lds, rds, cds and eds.', ['type']),
    convergence: m.histogram(
      'pilot_proxy_convergence_time',
      'Delay in seconds between config change and a proxy receiving all required configuration.',
      [],
      convergenceBuckets,
    ),
    connected: m.gauge('pilot_xds', 'Number of endpoints connected to this pilot using XDS.'),
    rejects: m.counter('pilot_total_xds_rejects', 'Total number of XDS responses from pilot rejected by proxy.', ['type']),
    internalErrors: m.counter('pilot_total_xds_internal_errors', 'Total number of internal XDS errors in pilot.'),
    pushTime: m.histogram('pilot_xds_push_time', 'Total time in seconds Pilot takes to push lds, rds, cds and eds.', [], convergenceBuckets),
    configSize: m.histogram('pilot_xds_config_size_bytes', 'Distribution of configuration sizes pushed to clients', ['type'], sizeBuckets),
    configProblems: m.gauge('trellis_config_problems', 'Configuration problems currently known: documents skipped, conflicts, references to resources that do not exist.'),
    cfgEvents: m.counter('pilot_k8s_cfg_events', 'Events from k8s config.', ['type', 'event']),
    // istiod's reasons: "endpoint" for an EDS-only push, "config" for a full one.
    pushTriggers: m.counter('pilot_push_triggers', 'Total number of times a push was triggered, labeled by reason for the push.', ['type']),
    inconsistentSnapshots: m.counter('trellis_inconsistent_snapshots', 'Translated snapshots not published because a route, cluster or load assignment they reference does not exist.'),
    sourceUp: m.gauge('trellis_config_source_up', '1 while the config source is readable; 0 while it is unavailable and the last good config is served.'),
  };
}
