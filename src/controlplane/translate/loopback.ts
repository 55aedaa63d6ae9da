/**
 * Listeners for a sidecar that nothing captures for: `trellis up`'s
 * loopback mode, where pods share the machine's loopback and no iptables
 * rule sends traffic to 15001/15006 (Istio's INTERCEPTION_MODE NONE). What
 * capture would hand the virtual listeners is bound directly instead:
 *
 * - outbound: each service port is bound at the service's address *in this
 *   proxy's view* — the VIP's host bits placed in LOOPBACK_SERVICE_VIEW
 *   (e.g. 10.96.3.7 → 127.41.3.7 for view 127.41.0.0/16). Every pod has its
 *   own view because two sidecars on one loopback cannot both listen on the
 *   same address; the pod's app is given its view's addresses as the
 *   Service environment variables. HTTP services share 0.0.0.0_PORT's route
 *   config, so each gets a listener named VIP_PORT with that listener's chains;
 *   TCP listeners (already VIP_PORT) are only rebound.
 * - inbound: each inbound port is bound on the pod's address (the node's IP)
 *   with virtualInbound's chains for that port, and its inbound cluster goes
 *   to the app at LOOPBACK_APP_IP, as a Sidecar ingress defaultEndpoint
 *   makes istiod do (STATIC instead of ORIGINAL_DST).
 *
 * - routes: an app calls a service by its view address, so each virtual
 *   host that answers to a VIP ("10.96.3.7", "10.96.3.7:9080") also answers
 *   to the view's ("127.41.3.7", "127.41.3.7:9080").
 *
 * - ports: a proxy that may not bind ports below LOOPBACK_LOW_PORTS (an
 *   unprivileged user: ip_unprivileged_port_start) binds a service's port P
 *   below it at P + 10000 in its view (80 → 10080), and its virtual hosts
 *   answer to that too; the app's environment names the shifted port.
 *
 * The resource names stay Istio's, so proxy-config and the metrics read the
 * same as with capture.
 */
import { clone, create } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy, type Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema, type Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { formatIpv4, parseIpv4, parseServiceCidr, type Ipv4Cidr } from '../../config/cluster-ip.js';
import { logger } from '../../log.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import { toResource, type ResourceSet, type XdsResource } from '../wire/resource.js';
import type { MeshService } from '../registry/model.js';
import { buildLoadAssignment } from './endpoints.js';
import { socketAddress } from './common.js';
import { FilterName } from './hcm.js';
import { portKind } from './listeners.js';
import { VirtualInbound, VirtualOutbound, outboundListenerName, parseClusterName } from './names.js';

const log = logger('translate');

export interface LoopbackPlan {
  /** Where this proxy's inbound listeners bind: the pod's address. */
  podIp: string;
  /** Where the app listens (the inbound clusters' endpoint address). */
  appIp: string;
  view: Ipv4Cidr;
  /** Service ports below this are bound LOW_PORT_SHIFT higher (0: none are). */
  lowPorts: number;
}

/** How far a service port the proxy may not bind is moved in a loopback view. */
export const LOW_PORT_SHIFT = 10_000;

/** The port a service port is bound at in a loopback view. */
export function viewPort(port: number, lowPorts: number): number {
  return port < lowPorts ? port + LOW_PORT_SHIFT : port;
}

/** The plan from node metadata, or undefined for a proxy with capture (any other interception mode). */
export function loopbackPlan(node: ProxyNode): LoopbackPlan | undefined {
  const md = node.metadata;
  if (md['INTERCEPTION_MODE'] !== 'NONE' || node.generator !== 'envoy') return undefined;
  const podIp = node.ipAddresses[0];
  const appIp = md['LOOPBACK_APP_IP'];
  const viewText = md['LOOPBACK_SERVICE_VIEW'];
  if (!podIp || !appIp || !viewText || parseIpv4(appIp) === undefined) return undefined;
  const low = Number(md['LOOPBACK_LOW_PORTS'] ?? 0);
  try {
    return { podIp, appIp, view: parseServiceCidr(viewText), lowPorts: Number.isInteger(low) && low > 0 && low <= 65536 ? low : 0 };
  } catch {
    return undefined;
  }
}

/** A VIP's address in a view: the VIP's host bits under the view's prefix. */
export function viewAddress(view: Ipv4Cidr, vip: string): string | undefined {
  const n = parseIpv4(vip);
  if (n === undefined) return undefined;
  const host = n & (2 ** (32 - view.prefix) - 1);
  return formatIpv4((view.base | host) >>> 0);
}

interface Rebuilt {
  listeners: ResourceSet;
  clusters: ResourceSet;
}

export function loopbackResources(listeners: ResourceSet, clusters: ResourceSet, services: readonly MeshService[], plan: LoopbackPlan): Rebuilt {
  const out = new Map<string, XdsResource>();
  const bound = new Set<string>();
  const add = (l: Listener) => {
    const sa = l.address?.address.case === 'socketAddress' ? l.address.address.value : undefined;
    const at = `${sa?.address}:${sa?.portSpecifier.value}`;
    // Two VIPs with the same host bits would meet at one view address: the first keeps it (a bind failure would NACK them all).
    if (bound.has(at)) return log.warn('loopback view address taken by another service; listener skipped', { listener: l.name, address: at });
    bound.add(at);
    out.set(l.name, toResource(ListenerSchema, l.name, l));
  };
  for (const r of [...listeners.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (r.name === VirtualOutbound) continue;
    const l = r.message as Listener;
    if (r.name === VirtualInbound) for (const x of inboundListeners(l, plan)) add(x);
    else if (l.bindToPort === false) for (const x of outboundListeners(l, services, plan)) add(x);
    else out.set(r.name, r);
  }
  const cs = new Map<string, XdsResource>();
  for (const [name, r] of clusters) {
    const parsed = parseClusterName(name);
    cs.set(name, parsed?.direction === 'inbound' ? staticInbound(r.message as Cluster, parsed.port, plan.appIp) : r);
  }
  return { listeners: out, clusters: cs };
}

function portOf(l: Listener): { address: string; port: number } | undefined {
  const sa = l.address?.address.case === 'socketAddress' ? l.address.address.value : undefined;
  return sa && sa.portSpecifier.case === 'portValue' ? { address: sa.address, port: sa.portSpecifier.value } : undefined;
}

function rebound(l: Listener, name: string, address: string, port: number): Listener {
  const x = clone(ListenerSchema, l);
  x.name = name;
  x.address = socketAddress(address, port);
  x.bindToPort = undefined;
  return x;
}

function outboundListeners(l: Listener, services: readonly MeshService[], plan: LoopbackPlan): Listener[] {
  const at = portOf(l);
  if (!at) return [];
  const port = viewPort(at.port, plan.lowPorts);
  if (at.address !== '0.0.0.0') {
    const addr = viewAddress(plan.view, at.address);
    return addr ? [rebound(l, l.name, addr, port)] : [];
  }
  const out: Listener[] = [];
  for (const svc of services) {
    if (!svc.vip || !svc.ports.some((p) => p.port === at.port && portKind(p) === 'http')) continue;
    const addr = viewAddress(plan.view, svc.vip);
    if (addr) out.push(rebound(l, outboundListenerName(svc.vip, at.port), addr, port));
  }
  return out;
}

/** One bound listener per port virtualInbound has a chain for, with those chains and its listener filters minus original_dst. */
function inboundListeners(vin: Listener, plan: LoopbackPlan): Listener[] {
  const ports = new Set<number>();
  // A chain for the listener's own port (15006: refuses calls made to it directly) has nothing to do without capture.
  const own = portOf(vin)?.port;
  for (const c of vin.filterChains) if (c.filterChainMatch?.destinationPort && c.filterChainMatch.destinationPort !== own) ports.add(c.filterChainMatch.destinationPort);
  return [...ports].sort((a, b) => a - b).map((port) => create(ListenerSchema, {
    name: outboundListenerName(plan.podIp, port),
    address: socketAddress(plan.podIp, port),
    trafficDirection: vin.trafficDirection,
    listenerFilters: vin.listenerFilters.filter((f) => f.name !== FilterName.originalDst),
    filterChains: vin.filterChains.filter((c) => c.filterChainMatch?.destinationPort === port),
  }));
}

function staticInbound(c: Cluster, port: number, appIp: string): XdsResource {
  const x = clone(ClusterSchema, c);
  x.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.STATIC };
  x.lbPolicy = Cluster_LbPolicy.ROUND_ROBIN;
  x.loadAssignment = buildLoadAssignment(c.name, [{ address: appIp, port, servicePort: port, labels: {}, namespace: '', ready: true }]);
  return toResource(ClusterSchema, x.name, x);
}

/** Route configs shared by every proxy of a scope, rewritten once per view. */
const viewRoutes = new WeakMap<XdsResource, Map<string, XdsResource>>();

/** The route configs with each VIP domain doubled by its view address. */
export function loopbackRoutes(routes: ResourceSet, plan: LoopbackPlan): ResourceSet {
  const out = new Map<string, XdsResource>();
  for (const [name, r] of routes) {
    let byView = viewRoutes.get(r);
    if (!byView) viewRoutes.set(r, (byView = new Map()));
    const key = `${plan.view.text}|${plan.lowPorts}`;
    let hit = byView.get(key);
    if (!hit) byView.set(key, (hit = withViewDomains(r, plan)));
    out.set(name, hit);
  }
  return out;
}

function withViewDomains(r: XdsResource, plan: LoopbackPlan): XdsResource {
  const rc = clone(RouteConfigurationSchema, r.message as RouteConfiguration);
  for (const vh of rc.virtualHosts) {
    const extra: string[] = [];
    for (const d of vh.domains) {
      const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(d);
      const addr = m ? viewAddress(plan.view, m[1]!) : undefined;
      if (!addr || addr === m![1]) continue;
      if (m![2] === undefined) extra.push(addr);
      else {
        const port = Number(m![2]);
        extra.push(`${addr}:${port}`);
        if (viewPort(port, plan.lowPorts) !== port) extra.push(`${addr}:${viewPort(port, plan.lowPorts)}`);
      }
    }
    vh.domains.push(...extra.filter((d) => !vh.domains.includes(d)));
  }
  return toResource(RouteConfigurationSchema, rc.name, rc);
}
