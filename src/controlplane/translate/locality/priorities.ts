/**
 * A ClusterLoadAssignment as one proxy sees it under locality load
 * balancing: istiod's ApplyLocalityLoadBalancer (loadbalancer.go). Either
 * `distribute` reweights the localities the proxy's locality is sent to, or
 * (with outlier detection) priorities are assigned: by failoverPriority
 * labels equal to the proxy's, and/or by how much of region/zone/subzone
 * matches the proxy's (0..3, 4 for a region `failover` does not name).
 * Priorities are then renumbered 0..N without gaps, as Envoy requires.
 */
import { create } from '@bufbuild/protobuf';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { LocalityLbEndpointsSchema, type LbEndpoint, type LocalityLbEndpoints } from '../../../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { LocalityLbSetting } from '../../../config/objects.js';
import type { MeshEndpoint } from '../../registry/model.js';
import { splitLocality, type LocalityParts } from '../../../xds/locality.js';
import { localityLbEndpoints, type LocalityGroup } from '../endpoints.js';
import type { LocalityLb } from './lb-setting.js';
import { endpointLabel, NetworkLabel } from './proxy-locality.js';

/** Who asks: the proxy's locality and its topology-augmented labels. */
export interface Asker extends LocalityParts {
  readonly labels: Readonly<Record<string, string>>;
}

interface Entry {
  lle: LocalityLbEndpoints;
  endpoints: readonly MeshEndpoint[];
}

const some = <T>(list: readonly T[] | undefined): list is readonly T[] => list !== undefined && list.length > 0;

export function localityLoadAssignment(
  clusterName: string,
  groups: readonly LocalityGroup[],
  toLb: (ep: MeshEndpoint) => LbEndpoint,
  lb: LocalityLb,
  proxy: Asker,
): ClusterLoadAssignment {
  let entries: Entry[] = groups.map((g) => ({ lle: localityLbEndpoints(g, toLb), endpoints: g.endpoints }));
  const s = lb.setting;
  if (some(s.distribute)) {
    applyLocalityWeights(proxy, entries.map((e) => e.lle), s.distribute);
  } else if (lb.failover) {
    if (some(s.failoverPriority)) {
      entries = applyFailoverPriorities(entries, proxy.labels, s.failoverPriority);
      if (some(s.failover)) applyLocalityFailover(proxy, entries.map((e) => e.lle), s.failover);
    } else {
      applyLocalityFailover(proxy, entries.map((e) => e.lle), s.failover ?? []);
    }
  }
  return create(ClusterLoadAssignmentSchema, { clusterName, endpoints: entries.map((e) => e.lle) });
}

/** istiod's LocalityMatch: a rule locality with '*' or missing parts matches any value there. */
export function localityMatch(l: LocalityParts | undefined, rule: string): boolean {
  const r = splitLocality(rule);
  return (r.region === '*' || (l?.region ?? '') === r.region)
    && (r.zone === '*' || r.zone === '' || (l?.zone ?? '') === r.zone)
    && (r.subZone === '*' || r.subZone === '' || (l?.subZone ?? '') === r.subZone);
}

/** istiod's LbPriority: 0 all of region/zone/subzone equal, 1 region and zone, 2 region, 3 none. */
export function lbPriority(proxy: LocalityParts, ep: LocalityParts | undefined): number {
  if (proxy.region !== (ep?.region ?? '')) return 3;
  if (proxy.zone !== (ep?.zone ?? '')) return 2;
  return proxy.subZone === (ep?.subZone ?? '') ? 0 : 1;
}

/**
 * The first `distribute` entry whose `from` matches the proxy: each `to`
 * locality gets its percentage, split among the localities it matches in
 * proportion to their weights (rounded up); localities no `to` matches keep
 * no endpoints.
 */
function applyLocalityWeights(proxy: LocalityParts, lles: LocalityLbEndpoints[], distribute: NonNullable<LocalityLbSetting['distribute']>): void {
  const rule = distribute.find((d) => localityMatch(proxy, d.from ?? ''));
  if (!rule) return;
  const unmatched = new Set(lles.keys());
  for (const [to, weight] of Object.entries(rule.to ?? {})) {
    const dest = new Map<number, number>();
    let total = 0;
    for (const i of unmatched) {
      if (!localityMatch(lles[i]!.locality, to)) continue;
      const w = lles[i]!.loadBalancingWeight ?? 1;
      dest.set(i, w);
      total += w;
    }
    for (const [i, w] of dest) {
      unmatched.delete(i);
      const share = (w * weight) / total;
      if (share > 0) lles[i]!.loadBalancingWeight = Math.ceil(share);
    }
  }
  for (const i of unmatched) lles[i]!.lbEndpoints = [];
}

/**
 * Priorities from locality matching, composed with any already assigned
 * (failoverPriority) as old × 5 + new, then renumbered. A proxy region named
 * by a `failover` entry sends other regions than its `to` one priority lower.
 */
function applyLocalityFailover(proxy: LocalityParts, lles: LocalityLbEndpoints[], failover: NonNullable<LocalityLbSetting['failover']>): void {
  const priorities = lles.map((lle) => {
    let p = lbPriority(proxy, lle.locality);
    if (p === 3) {
      const f = failover.find((x) => x.from === proxy.region);
      if (f && (lle.locality?.region ?? '') !== f.to) p = 4;
    }
    return lle.priority * 5 + p;
  });
  renumber(lles, priorities);
}

/** Sets each entry's priority to the rank of its raw priority among the distinct raw priorities. */
function renumber(lles: LocalityLbEndpoints[], raw: readonly number[]): void {
  const rank = new Map([...new Set(raw)].sort((a, b) => a - b).map((p, i) => [p, i]));
  lles.forEach((lle, i) => (lle.priority = rank.get(raw[i]!)!));
}

/**
 * Splits each locality by failoverPriority: an endpoint whose labels equal
 * the proxy's on the first n labels gets priority (labels − n); a
 * "name=value" entry compares with value instead of the proxy's label. A
 * first label topology.istio.io/network that differs does not stop the
 * comparison but pushes the endpoint below all others (istiod's adjust).
 */
function applyFailoverPriorities(entries: Entry[], proxyLabels: Readonly<Record<string, string>>, failoverPriority: readonly string[]): Entry[] {
  if (Object.keys(proxyLabels).length === 0 || entries.length === 0) return entries;
  const names = failoverPriority.map((l) => l.split('=')[0]!);
  const overrides = new Map(failoverPriority.flatMap((l) => {
    const parts = l.split('=');
    return parts.length === 2 ? [[parts[0]!, parts[1]!] as const] : [];
  }));
  const lowest = failoverPriority.length;
  const includesNetwork = failoverPriority[0] === NetworkLabel;
  const out: Entry[] = [];
  for (const e of entries) {
    const byPriority = new Map<number, number[]>();
    e.endpoints.forEach((ep, i) => {
      let priority = 0;
      let adjust = 0;
      for (let j = 0; j < names.length; j++) {
        const label = names[j]!;
        const want = overrides.has(label) ? overrides.get(label) : proxyLabels[label];
        if ((want ?? '') === (endpointLabel(ep, label) ?? '')) continue;
        if (j === 0 && includesNetwork) {
          adjust = lowest;
          continue;
        }
        priority = lowest - j;
        break;
      }
      priority += adjust;
      let list = byPriority.get(priority);
      if (!list) byPriority.set(priority, (list = []));
      list.push(i);
    });
    for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
      const idx = byPriority.get(p)!;
      const lbEndpoints = idx.map((i) => e.lle.lbEndpoints[i]!);
      out.push({
        lle: create(LocalityLbEndpointsSchema, {
          locality: e.lle.locality,
          lbEndpoints,
          loadBalancingWeight: lbEndpoints.reduce((sum, x) => sum + (x.loadBalancingWeight ?? 0), 0),
          priority: p,
        }),
        endpoints: idx.map((i) => e.endpoints[i]!),
      });
    }
  }
  renumber(out.map((e) => e.lle), out.map((e) => e.lle.priority));
  return out;
}
