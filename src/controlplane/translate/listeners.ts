import { create } from '@bufbuild/protobuf';
import { onDemandFilter } from './on-demand.js';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '../../gen/envoy/config/core/v3/base_pb.js';
import { ApiListenerSchema } from '../../gen/envoy/config/listener/v3/api_listener_pb.js';
import { FilterChainMatchSchema, FilterChainSchema, type FilterChain } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { ListenerSchema, type Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { MeshService, MeshServicePort } from '../registry/model.js';
import { isHttpProtocol } from '../registry/protocol.js';
import type { BuildTcpProxy, BuildTlsFilterChainMatches, RouteScope } from './contracts.js';
import { socketAddress } from './common.js';
import { grpcHcm, hcmFilter, sidecarHcm, tcpProxyFilter, tcpProxyTo } from './hcm.js';
import { originalDstListenerFilter, tlsInspectorListenerFilter } from './listener-filters.js';
import { BlackHoleCluster, OutboundCapturePort, PassthroughCluster, VirtualOutbound, outboundListenerName } from './names.js';

/**
 * virtualOutbound (0.0.0.0:15001): hands each captured connection to the
 * listener of its original destination; what matches none goes to
 * PassthroughCluster (ALLOW_ANY) or BlackHoleCluster (REGISTRY_ONLY).
 */
export function virtualOutboundListener(registryOnly: boolean): Listener {
  return create(ListenerSchema, {
    name: VirtualOutbound,
    address: socketAddress('0.0.0.0', OutboundCapturePort),
    useOriginalDst: true,
    trafficDirection: TrafficDirection.OUTBOUND,
    listenerFilters: [originalDstListenerFilter()],
    defaultFilterChain: fallthroughChain(registryOnly),
  });
}

/** What matches no chain: the outbound traffic policy's PassthroughCluster (ALLOW_ANY) or BlackHoleCluster (REGISTRY_ONLY). */
function fallthroughChain(registryOnly: boolean): FilterChain {
  const cluster = registryOnly ? BlackHoleCluster : PassthroughCluster;
  return create(FilterChainSchema, { name: registryOnly ? 'BlackHoleFilterChain' : 'PassthroughFilterChain', filters: [tcpProxyFilter(tcpProxyTo(cluster))] });
}

/** A chain for one VirtualService tls route (or a host's own SNI): matched on the server names, proxied as its TcpProxy says. */
function sniChain(name: string, serverNames: string[], tcpProxy: Parameters<typeof tcpProxyFilter>[0]): FilterChain {
  return create(FilterChainSchema, { name, filterChainMatch: create(FilterChainMatchSchema, { serverNames }), filters: [tcpProxyFilter(tcpProxy)] });
}

/** How a port is translated: HTTP, GRPC and HTTP2 get an HCM; everything else (UNKNOWN included) is TCP; UDP is skipped. */
export function portKind(p: MeshServicePort): 'http' | 'tcp' | 'none' {
  if (p.protocol === 'UDP') return 'none';
  return isHttpProtocol(p.protocol) ? 'http' : 'tcp';
}

/** 0.0.0.0_PORT: every HTTP service on PORT, routed by Host through route config "PORT". */
export function httpOutboundListener(port: number, onDemand = false): Listener {
  const name = outboundListenerName('0.0.0.0', port);
  const hcm = sidecarHcm(`outbound_0.0.0.0_${port}`, { rds: String(port) }, true);
  // Envoy runs on_demand just before the router, after the filters that may answer locally.
  if (onDemand) hcm.httpFilters.splice(hcm.httpFilters.length - 1, 0, onDemandFilter());
  return create(ListenerSchema, {
    name,
    address: socketAddress('0.0.0.0', port),
    bindToPort: false,
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: [create(FilterChainSchema, { name, filters: [hcmFilter(hcm)] })],
  });
}

/**
 * VIP_PORT: one TCP service port, proxied as the routes translator decides
 * (TCP routes, subsets). On TLS/HTTPS ports, VirtualService tls routes become
 * filter chains matched on SNI (read by the TLS inspector), before the default chain.
 */
export function tcpOutboundListener(scope: RouteScope, svc: MeshService, port: number, buildTcp: BuildTcpProxy, buildTls?: BuildTlsFilterChainMatches): Listener {
  const name = outboundListenerName(svc.vip!, port);
  const protocol = svc.ports.find((p) => p.port === port)?.protocol;
  const tls = buildTls && (protocol === 'TLS' || protocol === 'HTTPS') ? buildTls(scope, svc, port) : [];
  const sniChains = tls.map((m) => sniChain(`${name}_${m.serverNames[0] ?? ''}`, m.serverNames, m.tcpProxy));
  return create(ListenerSchema, {
    name,
    address: socketAddress(svc.vip!, port),
    bindToPort: false,
    trafficDirection: TrafficDirection.OUTBOUND,
    listenerFilters: sniChains.length ? [tlsInspectorListenerFilter()] : [],
    filterChains: [...sniChains, create(FilterChainSchema, { name, filters: [tcpProxyFilter(buildTcp(scope, svc, port))] })],
  });
}

/**
 * 0.0.0.0_PORT for the TLS and HTTPS services on PORT that have no VIP (a
 * ServiceEntry for an external HTTPS host, Istio's most common egress
 * entry): the TLS inspector reads the SNI, each host gets a chain matched on
 * it (after its VirtualService tls routes, when it has any), proxied to its
 * own cluster (outbound|443||www.example.com, as istiod names it); any other
 * SNI, or no TLS at all, takes the outbound traffic policy's fallthrough —
 * as it would have without this listener.
 */
export function sniOutboundListener(scope: RouteScope, services: readonly MeshService[], port: number, buildTcp: BuildTcpProxy, buildTls: BuildTlsFilterChainMatches | undefined, registryOnly: boolean): Listener {
  const name = outboundListenerName('0.0.0.0', port);
  const chains = services.flatMap((svc) => {
    const routed = buildTls ? buildTls(scope, svc, port) : [];
    const out = routed.map((m, i) => sniChain(`${name}_${m.serverNames[0] ?? ''}_${i}`, m.serverNames, m.tcpProxy));
    // Two chains with the same match would be refused (Envoy NACKs the listener): the routes own a name they list.
    if (!routed.some((m) => m.serverNames.includes(svc.hostname))) out.push(sniChain(`${name}_${svc.hostname}`, [svc.hostname], buildTcp(scope, svc, port)));
    return out;
  });
  return create(ListenerSchema, {
    name,
    address: socketAddress('0.0.0.0', port),
    bindToPort: false,
    trafficDirection: TrafficDirection.OUTBOUND,
    listenerFilters: [tlsInspectorListenerFilter()],
    filterChains: chains,
    defaultFilterChain: fallthroughChain(registryOnly),
  });
}

export interface OutboundPorts {
  http: number[];
  tcp: { svc: MeshService; port: number }[];
  /** TLS/HTTPS ports of services without a VIP, matched by SNI on 0.0.0.0_PORT (ports that are not also HTTP ports). */
  sni: { port: number; services: MeshService[] }[];
}

/** The ports with HTTP services, the TCP service ports with a VIP, and the TLS ports told apart by SNI, among the visible services (sorted). */
export function outboundPorts(services: readonly MeshService[]): OutboundPorts {
  const http = new Set<number>();
  const tcp: { svc: MeshService; port: number }[] = [];
  const sni = new Map<number, MeshService[]>();
  const seen = new Set<string>();
  for (const svc of services) {
    for (const p of svc.ports) {
      const kind = portKind(p);
      if (kind === 'http') http.add(p.port);
      if (kind === 'tcp' && svc.vip && !seen.has(`${svc.vip}_${p.port}`)) {
        seen.add(`${svc.vip}_${p.port}`);
        tcp.push({ svc, port: p.port });
      } else if (kind === 'tcp' && !svc.vip && (p.protocol === 'TLS' || p.protocol === 'HTTPS')) {
        // Without a VIP a TLS service is still told apart by its SNI; other headless TCP services fall to passthrough.
        let list = sni.get(p.port);
        if (!list) sni.set(p.port, (list = []));
        if (!list.includes(svc)) list.push(svc);
      }
    }
  }
  const sniPorts = [...sni].filter(([port]) => !http.has(port)).sort((a, b) => a[0] - b[0]).map(([port, list]) => ({ port, services: list }));
  return { http: [...http].sort((a, b) => a - b), tcp, sni: sniPorts };
}

/**
 * A proxyless gRPC listener, "HOST:PORT": an API listener whose HCM fetches
 * route config "HOST:PORT" over ADS (what @grpc/grpc-js-xds resolves for
 * the target xds:///HOST:PORT).
 */
export function grpcListener(name: string): Listener {
  return create(ListenerSchema, {
    name,
    apiListener: create(ApiListenerSchema, { apiListener: anyPack(HttpConnectionManagerSchema, grpcHcm(name)) }),
  });
}
