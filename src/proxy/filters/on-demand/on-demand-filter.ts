/**
 * envoy.filters.http.on_demand with odcds (on-demand-plan.ts): a request
 * whose route sends it to a cluster the proxy cannot use yet is held while
 * the cluster is discovered (upstream/cluster-discovery.ts), then the chain
 * continues — the router routes it, or answers 503 NC as it would have
 * without the filter (the cluster does not exist, or did not come in time).
 *
 * Which clusters: the route's cluster, a cluster_header's value (Envoy's
 * case: the name is known only from the request), and — our extension;
 * Envoy looks at the one cluster its route entry names — every cluster of
 * a weighted_clusters set, so that no later request of the split is held.
 * A client that leaves while held is released from the discovery at once
 * (its stream ends as DC, counted once).
 */
import { logger } from '../../../log.js';
import type { CompiledRoute } from '../../router/route-table.js';
import type { DiscoveryHandle, DiscoveryStatus } from '../../upstream/cluster-discovery.js';
import { continueDecoding } from '../chain.js';
import { CONTINUE, STOP, type FilterStatus, type HttpFilter } from '../filter.js';
import { finishStream, type HttpStream } from '../stream.js';
import type { OnDemandPlan } from './on-demand-plan.js';

const log = logger('proxy');

/** What the filter needs of the proxy's on-demand discovery (ClusterDiscovery has it). */
export interface OnDemandClusters {
  /** Of `names`, those to wait for (not usable yet; not already reported absent). */
  missing(names: readonly string[]): string[];
  discover(names: readonly string[], timeoutMs: number, done: (status: DiscoveryStatus) => void): DiscoveryHandle | 'unsupported';
}

/** SotW streams cannot subscribe on demand: said once per process, not per request. */
let unsupportedLogged = false;

export class OnDemandFilter implements HttpFilter {
  readonly name: string;
  readonly #plan: OnDemandPlan;
  readonly #clusters: OnDemandClusters;

  constructor(name: string, plan: OnDemandPlan, clusters: OnDemandClusters) {
    this.name = name;
    this.#plan = plan;
    this.#clusters = clusters;
  }

  decodeHeaders(ex: HttpStream): FilterStatus {
    const odcds = this.#plan.odcds;
    if (!odcds) return CONTINUE;
    const missing = this.#clusters.missing(routeClusters(ex.route, ex.req.headers));
    if (missing.length === 0) return CONTINUE;
    const handle = this.#clusters.discover(missing, odcds.timeoutMs, () => resume(ex));
    if (handle === 'unsupported') {
      if (!unsupportedLogged) log.warn('on-demand cluster discovery needs Delta xDS; requests for clusters not received go on without it', { filter: this.name });
      unsupportedLogged = true;
      return CONTINUE;
    }
    // The client going away cancels what the stream waits on (filters/stream.ts downstreamGone): here, the discovery.
    ex.upstream = {
      cancel: () => {
        handle.cancel();
        finishStream(ex);
      },
    };
    return STOP;
  }
}

function resume(ex: HttpStream): void {
  ex.upstream = undefined;
  continueDecoding(ex);
}

/**
 * Every cluster this request may be sent to by its route (pure): the route's cluster, the value of its
 * cluster_header (none when the header is absent), or each cluster of its weighted set.
 */
export function routeClusters(route: CompiledRoute | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): string[] {
  const a = route?.action;
  if (a?.kind !== 'forward') return [];
  const t = a.target;
  if (t.kind === 'single') return [t.name];
  if (t.kind === 'weighted') return t.clusters.map((c) => c.name);
  const v = headers[t.header];
  return typeof v === 'string' && v !== '' ? [v] : [];
}
