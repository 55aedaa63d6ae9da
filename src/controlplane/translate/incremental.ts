import type { MeshModel } from '../registry/model.js';
import { ambientView } from './ambient/ambient-view.js';
import type { SharedCache } from './shared-cache.js';

/** What the previous Generator has built that an endpoint change could reach beyond EDS. */
export interface EdsReach {
  /** Its clusters (shared with the derived Generator). */
  readonly shared: SharedCache;
  /** Whether some proxy state holds the ambient pods' addresses (an HBONE sidecar's). */
  readonly hboneBuilt: boolean;
}

/**
 * Whether the change from `prev` to `next` — the endpoints of `changedHosts`
 * only (registry/build-model.ts updateEndpoints) — can be served as an
 * EDS-only push: new ClusterLoadAssignments for those services and the
 * previous Generator's clusters, listeners, routes and name tables. Not so
 * when endpoints reach further, which istiod also answers with a full push:
 * - a headless service's ready addresses are its name-table entry (NDS);
 * - its endpoints' service accounts are its clusters' SANs, their tlsMode
 *   decides auto mTLS, and a STATIC or DNS service's clusters inline them:
 *   every cluster already built for a changed service is rebuilt from
 *   `next` and must come out byte for byte the same;
 * - a Pod's readiness can change the ambient pods' addresses an HBONE
 *   sidecar's listeners name.
 * Waypoints and the workload API read endpoints too, but a derived Generator
 * rebuilds those from `next` (generator-impl.ts).
 */
export function endpointsReachOnlyEds(prev: MeshModel, next: MeshModel, changedHosts: ReadonlySet<string>, reach: EdsReach): boolean {
  if (prev.ambient !== next.ambient && reach.hboneBuilt && !sameSet(ambientView(prev).podIps, ambientView(next).podIps)) return false;
  for (const hostname of changedHosts) {
    const svc = next.service(hostname);
    if (!svc || (svc.vip === undefined && svc.resolution === 'NONE')) return false;
    if (!sameList(prev.serviceAccounts(hostname), next.serviceAccounts(hostname))) return false;
  }
  return reach.shared.clustersUnchanged(changedHosts, next);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
