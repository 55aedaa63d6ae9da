/**
 * Which caller address an HBONE tunnel may claim. The source node proxy
 * names the caller in `forwarded: for=`, and the destination dials the app
 * from that address (IP_TRANSPARENT) and matches ipBlocks against it — so
 * any mesh peer could otherwise make an app see, and a policy judge, an
 * address of its choosing. It is believed only when it is the address of a
 * workload with the peer's own identity (what a node proxy sends for its
 * pods); otherwise the tunnel has no known source address: the app is
 * dialled from the node proxy's own address and source ipBlocks never match.
 * Pure.
 */
import type { SpiffeId } from '../hbone/spiffe-peer.js';
import { canonicalIp } from '../state/ip.js';
import type { WorkloadIndex } from '../state/workload-index.js';

export function forwardedSource(index: Pick<WorkloadIndex, 'workloadByIp'>, peer: SpiffeId, forwardedFor: { host: string } | undefined): string | undefined {
  if (!forwardedFor) return undefined;
  const ip = canonicalIp(forwardedFor.host);
  const w = index.workloadByIp(ip);
  const same = w !== undefined && w.namespace === peer.namespace && w.serviceAccount === peer.serviceAccount && w.trustDomain === peer.trustDomain;
  return same ? ip : undefined;
}
