/**
 * Which proxies use the addresses Istio auto-allocates for ServiceEntry
 * hosts without their own (registry: MeshService.autoAddresses), and the
 * services as those proxies see them. istiod's rule (nodeUsesAutoallocatedIPs,
 * with allocation on as Trellis always has it): a proxy whose agent captures
 * DNS — it answers the app with those addresses, so its listeners must be on
 * them — or a waypoint. Any other proxy sees no address for such a host,
 * since its app cannot have learnt one.
 */
import type { ProxyNode } from '../../xds/proxy-node.js';
import type { MeshService } from '../registry/model.js';
import type { DnsFamily } from './clusters.js';

export function usesAutoAddresses(node: ProxyNode): boolean {
  return node.metadata.DNS_CAPTURE === 'true' || node.type === 'waypoint';
}

/** One copy per service and family, so the per-service translation memos stay warm across scopes. */
const copies = { V4_ONLY: new WeakMap<MeshService, MeshService>(), V6_ONLY: new WeakMap<MeshService, MeshService>() };

/** The service with its allocated address of the proxy's family as its VIP (istiod's GetAddressForProxy); others as they are. */
export function withAutoVip(svc: MeshService, family: DnsFamily): MeshService {
  if (svc.vip !== undefined || !svc.autoAddresses) return svc;
  const vip = svc.autoAddresses.find((a) => a.includes(':') === (family === 'V6_ONLY'));
  if (vip === undefined) return svc;
  let hit = copies[family].get(svc);
  if (!hit) copies[family].set(svc, (hit = { ...svc, vip }));
  return hit;
}
