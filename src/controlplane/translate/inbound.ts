import { create } from '@bufbuild/protobuf';
import { FilterChainMatchSchema, FilterChainSchema, type FilterChain } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { ListenerSchema, type Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteActionSchema, RouteMatchSchema, RouteSchema, VirtualHostSchema } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { TrafficDirection } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { MeshModel, Protocol, Workload } from '../registry/model.js';
import { isHttpProtocol } from '../registry/protocol.js';
import { resolveTargetPort } from '../registry/endpoints-build.js';
import { durationMs, socketAddress } from './common.js';
import { hcmFilter, sidecarHcm, tcpProxyFilter, tcpProxyTo } from './hcm.js';
import { originalDstListenerFilter } from './listeners.js';
import { InboundCapturePort, InboundPassthroughCluster, VirtualInbound, inboundClusterName } from './names.js';

/** One port the proxy's own workload serves: the target port of a service port selecting it. */
export interface InboundPort {
  port: number;
  protocol: Protocol;
  /** The services reaching the workload on this port (Istio's inbound cluster metadata: telemetry's destination_service). */
  services: readonly InboundService[];
}

export interface InboundService {
  host: string;
  name: string;
  namespace: string;
}

/**
 * The ports of every service selecting this workload, by target port (deduplicated:
 * the first service in hostname order decides the protocol), sorted.
 */
export function inboundPorts(model: MeshModel, namespace: string, labels: Readonly<Record<string, string>>, workload: Workload | undefined): InboundPort[] {
  const byPort = new Map<number, { protocol: Protocol; services: InboundService[] }>();
  for (const svc of model.servicesForWorkload(namespace, labels)) {
    for (const p of svc.ports) {
      if (p.protocol === 'UDP') continue;
      const target = resolveTargetPort(p, workload);
      if (target === undefined) continue;
      let entry = byPort.get(target);
      if (!entry) byPort.set(target, (entry = { protocol: p.protocol, services: [] }));
      if (!entry.services.some((x) => x.host === svc.hostname)) entry.services.push({ host: svc.hostname, name: svc.name, namespace: svc.namespace });
    }
  }
  return [...byPort.entries()].sort((a, b) => a[0] - b[0]).map(([port, e]) => ({
    port, protocol: e.protocol, services: e.services.sort((a, b) => a.host.localeCompare(b.host)),
  }));
}

/** A stable key for a set of inbound ports: workloads with equal keys share inbound resources. */
export function inboundKey(ports: readonly InboundPort[]): string {
  return ports.map((p) => `${p.port}:${isHttpProtocol(p.protocol) ? 'h' : 't'}:${p.services.map((x) => x.host).join('+')}`).join(',');
}

/** Istio's inline inbound route: everything to inbound|PORT||, no timeout (the app decides). */
export function inboundRoute(port: number): RouteConfiguration {
  const cluster = inboundClusterName(port);
  const route = create(RouteSchema, {
    name: 'default',
    match: create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } }),
    action: { case: 'route', value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: cluster }, timeout: durationMs(0) }) },
  });
  return create(RouteConfigurationSchema, {
    name: cluster,
    virtualHosts: [create(VirtualHostSchema, { name: `inbound|http|${port}`, domains: ['*'], routes: [route] })],
    validateClusters: false,
  });
}

function inboundChain(p: InboundPort): FilterChain {
  const cluster = inboundClusterName(p.port);
  const filter = isHttpProtocol(p.protocol)
    ? hcmFilter(sidecarHcm(`inbound_0.0.0.0_${p.port}`, { inline: inboundRoute(p.port) }, false))
    : tcpProxyFilter(tcpProxyTo(cluster, `inbound_0.0.0.0_${p.port}`));
  return create(FilterChainSchema, {
    name: `0.0.0.0_${p.port}`,
    filterChainMatch: create(FilterChainMatchSchema, { destinationPort: p.port }),
    filters: [filter],
  });
}

/**
 * virtualInbound (0.0.0.0:15006): one filter chain per inbound port, matched
 * on the original destination port, and a passthrough chain for the rest.
 */
export function virtualInboundListener(ports: readonly InboundPort[]): Listener {
  const passthrough = create(FilterChainSchema, {
    name: 'InboundPassthroughFilterChain',
    filters: [tcpProxyFilter(tcpProxyTo(InboundPassthroughCluster))],
  });
  return create(ListenerSchema, {
    name: VirtualInbound,
    address: socketAddress('0.0.0.0', InboundCapturePort),
    trafficDirection: TrafficDirection.INBOUND,
    listenerFilters: [originalDstListenerFilter()],
    filterChains: [...ports.map(inboundChain), passthrough],
  });
}
