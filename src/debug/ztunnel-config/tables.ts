/**
 * istioctl ztunnel-config's tables from a node proxy's config dump, with its
 * headers, sort orders, filters and words ("None" without a waypoint,
 * "HEALTHY/ALL" endpoints): its configdump/workload.go, services.go,
 * policies.go. Go's tabwriter with padding 1 lays them out. Pure.
 */
import type { Row } from '../format/table.js';
import type { ZtunnelDump, ZtunnelPolicy, ZtunnelService, ZtunnelWorkload } from './dump.js';

export const WORKLOADS_HEADER: Row = ['NAMESPACE', 'POD NAME', 'ADDRESS', 'NODE', 'WAYPOINT', 'PROTOCOL'];
export const SERVICES_HEADER: Row = ['NAMESPACE', 'SERVICE NAME', 'SERVICE VIP', 'WAYPOINT', 'ENDPOINTS'];
export const POLICIES_HEADER: Row = ['NAMESPACE', 'POLICY NAME', 'ACTION', 'SCOPE'];
export const TABLE_PADDING = 1;

export interface WorkloadFilter {
  address?: string;
  node?: string;
  namespace?: string;
  /** A workload pod the user named (istioctl's TargetWorkload). */
  name?: string;
}

const s = (v: string | undefined) => v ?? '';
const sameFold = (a: string | undefined, b: string) => s(a).toLowerCase() === b.toLowerCase();
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** istioctl's WorkloadFilter.Verify: every set field must hold, compared without case. */
export function workloadMatches(w: ZtunnelWorkload, f: WorkloadFilter): boolean {
  if (f.name && !sameFold(w.name, f.name)) return false;
  if (f.namespace && !sameFold(w.namespace, f.namespace)) return false;
  if (f.address && !(w.workloadIps ?? []).some((ip) => sameFold(ip, f.address!))) return false;
  return !f.node || sameFold(w.node, f.node);
}

/** The waypoint's Service name: the one whose "namespace/hostname" or a VIP is the waypoint's destination. */
function waypointName(waypoint: { destination?: string } | undefined, services: readonly ZtunnelService[]): string {
  if (!waypoint) return 'None';
  const hit = services.find((svc) => `${s(svc.namespace)}/${s(svc.hostname)}` === waypoint.destination || (svc.vips ?? []).includes(s(waypoint.destination)));
  return hit ? s(hit.name) : 'NA';
}

export function workloadRows(d: ZtunnelDump, f: WorkloadFilter): Row[] {
  const key = (w: ZtunnelWorkload) => `${s(w.namespace)}.${s(w.name)}`;
  const list = d.workloads.filter((w) => workloadMatches(w, f)).sort((a, b) => compare(key(a), key(b)) || compare(s(a.node), s(b.node)));
  return list.map((w) => {
    const address = (w.workloadIps ?? []).join(',') || s(w.hostname);
    return [s(w.namespace), s(w.name), address, s(w.node), waypointName(w.waypoint, d.services), s(w.protocol)];
  });
}

/** The filtered workloads as they came (istioctl's -o json: unsorted). */
export const selectedWorkloads = (d: ZtunnelDump, f: WorkloadFilter) => d.workloads.filter((w) => workloadMatches(w, f));

/** Services of `namespace` (all when unset), by namespace, name, hostname. */
export function selectedServices(d: ZtunnelDump, namespace?: string): ZtunnelService[] {
  return d.services.filter((svc) => !namespace || sameFold(svc.namespace, namespace))
    .sort((a, b) => compare(s(a.namespace), s(b.namespace)) || compare(s(a.name), s(b.name)) || compare(s(a.hostname), s(b.hostname)));
}

export function serviceRows(d: ZtunnelDump, namespace?: string): Row[] {
  const byUid = new Map(d.workloads.map((w) => [s(w.uid), w]));
  return selectedServices(d, namespace).map((svc) => {
    const vips = (svc.vips ?? []).map((a) => (a.includes('/') ? a.slice(a.indexOf('/') + 1) : ''));
    const endpoints = Object.values(svc.endpoints ?? {});
    const healthy = endpoints.filter((e) => byUid.get(s(e?.workloadUid))?.status === 'Healthy').length;
    return [s(svc.namespace), s(svc.name), vips.join(','), waypointName(svc.waypoint, d.services), `${healthy}/${endpoints.length}`];
  });
}

export function selectedPolicies(d: ZtunnelDump, namespace?: string): ZtunnelPolicy[] {
  return d.policies.filter((p) => !namespace || sameFold(p.namespace, namespace))
    .sort((a, b) => compare(s(a.namespace), s(b.namespace)) || compare(s(a.name), s(b.name)));
}

export const policyRows = (d: ZtunnelDump, namespace?: string): Row[] =>
  selectedPolicies(d, namespace).map((p) => [s(p.namespace), s(p.name), s(p.action), s(p.scope)]);
