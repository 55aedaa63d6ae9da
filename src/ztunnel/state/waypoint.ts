/**
 * The waypoint hop of an outbound connection, as ztunnel's
 * fetch_waypoint: the destination's GatewayAddress → the waypoint's
 * Service (by hostname) or the workload or service at its address → one of
 * its ready pods, reached over HBONE on the GatewayAddress's port with the
 * ORIGINAL destination (VIP:port or pod IP:port) as :authority — the
 * waypoint's connect_terminate matches its chains on it — and the
 * waypoint's own identity required of the server.
 *
 * Fails closed (the issue; ztunnel errors too, istiod just leaves the
 * waypoint out): a waypoint that is unknown or has no ready pod gives
 * `no-endpoint`, never the destination itself. Pure: no I/O.
 */
import type { AddressInfo, PortMapping, ServiceInfo, WaypointAddress, WorkloadInfo } from './model.js';

export interface WaypointHop {
  kind: 'waypoint';
  /** The waypoint pod the tunnel goes to, and its HBONE port. */
  waypoint: WorkloadInfo;
  port: number;
  /** The :authority of the CONNECT: where the caller meant to go. */
  authority: { host: string; port: number };
  /** The caller's destination, for metrics. */
  destination: { workload?: WorkloadInfo; service?: ServiceInfo };
}

export interface WaypointLookup {
  byHostname(namespace: string, hostname: string): ServiceInfo | undefined;
  byAddress(ip: string): AddressInfo | undefined;
  endpointsOf(serviceKey: string): readonly WorkloadInfo[];
  nextIndex(n: number): number;
}

interface Resolved {
  /** NAMESPACE/NAME, for the reason a connection is refused. */
  name: string;
  pods: readonly WorkloadInfo[];
  service?: ServiceInfo;
  missing?: string;
}

function resolveWaypoint(index: WaypointLookup, a: WaypointAddress): Resolved {
  if (a.kind === 'hostname') {
    const svc = index.byHostname(a.namespace, a.hostname);
    // istiod's waypoint hostname is NAME.NAMESPACE.svc.DOMAIN: its first label is the Gateway's name.
    if (!svc) return { name: `${a.namespace}/${a.hostname.split('.')[0]}`, pods: [], missing: `its Service ${a.hostname} is unknown` };
    return { name: `${svc.namespace}/${svc.name}`, pods: index.endpointsOf(svc.key), service: svc };
  }
  const found = index.byAddress(a.ip);
  if (!found) return { name: a.ip, pods: [], missing: `nothing is at ${a.ip}` };
  if (found.kind === 'workload') return { name: `${found.namespace}/${found.name}`, pods: [found] };
  return { name: `${found.namespace}/${found.name}`, pods: index.endpointsOf(found.key), service: found };
}

/**
 * The hop to the destination's waypoint; undefined when the caller IS one of that waypoint's pods
 * (ztunnel's check_from_waypoint: the waypoint's own traffic to the destination goes straight there).
 */
export function waypointHop(
  index: WaypointLookup,
  a: WaypointAddress,
  authority: { host: string; port: number },
  destination: WaypointHop['destination'],
  source: WorkloadInfo | undefined,
): WaypointHop | { kind: 'no-endpoint'; service?: ServiceInfo; reason: string } | undefined {
  const r = resolveWaypoint(index, a);
  if (source && r.pods.some((p) => p.uid === source.uid)) return undefined;
  const ready = r.pods.filter((p) => p.healthy && p.addresses.length > 0);
  if (ready.length === 0) {
    return { kind: 'no-endpoint', service: destination.service, reason: `waypoint ${r.name} has no ready endpoint${r.missing ? ` (${r.missing})` : ''}` };
  }
  const pod = ready[index.nextIndex(ready.length)]!;
  const mapped = r.service && pod.services.get(r.service.key)?.find((p: PortMapping) => p.servicePort === a.port)?.targetPort;
  return { kind: 'waypoint', waypoint: pod, port: mapped || a.port, authority, destination };
}
