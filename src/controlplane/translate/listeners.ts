import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '../../gen/envoy/config/core/v3/base_pb.js';
import { ApiListenerSchema } from '../../gen/envoy/config/listener/v3/api_listener_pb.js';
import { FilterChainMatchSchema, FilterChainSchema } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { ListenerSchema, type Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { MeshService, MeshServicePort } from '../registry/model.js';
import { isHttpProtocol } from '../registry/protocol.js';
import type { BuildTcpProxy, RouteScope } from './routes/index.js';
import type { BuildTlsFilterChainMatches } from './scope-resources.js';
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
  const cluster = registryOnly ? BlackHoleCluster : PassthroughCluster;
  return create(ListenerSchema, {
    name: VirtualOutbound,
    address: socketAddress('0.0.0.0', OutboundCapturePort),
    useOriginalDst: true,
    trafficDirection: TrafficDirection.OUTBOUND,
    listenerFilters: [originalDstListenerFilter()],
    defaultFilterChain: create(FilterChainSchema, { name: registryOnly ? 'BlackHoleFilterChain' : 'PassthroughFilterChain', filters: [tcpProxyFilter(tcpProxyTo(cluster))] }),
  });
}

/** How a port is translated: HTTP, GRPC and HTTP2 get an HCM; everything else (UNKNOWN included) is TCP; UDP is skipped. */
export function portKind(p: MeshServicePort): 'http' | 'tcp' | 'none' {
  if (p.protocol === 'UDP') return 'none';
  return isHttpProtocol(p.protocol) ? 'http' : 'tcp';
}

/** 0.0.0.0_PORT: every HTTP service on PORT, routed by Host through route config "PORT". */
export function httpOutboundListener(port: number): Listener {
  const name = outboundListenerName('0.0.0.0', port);
  return create(ListenerSchema, {
    name,
    address: socketAddress('0.0.0.0', port),
    bindToPort: false,
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: [create(FilterChainSchema, { name, filters: [hcmFilter(sidecarHcm(`outbound_0.0.0.0_${port}`, { rds: String(port) }, true))] })],
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
  const sniChains = tls.map((m) => create(FilterChainSchema, {
    name: `${name}_${m.serverNames[0] ?? ''}`,
    filterChainMatch: create(FilterChainMatchSchema, { serverNames: m.serverNames }),
    filters: [tcpProxyFilter(m.tcpProxy)],
  }));
  return create(ListenerSchema, {
    name,
    address: socketAddress(svc.vip!, port),
    bindToPort: false,
    trafficDirection: TrafficDirection.OUTBOUND,
    listenerFilters: sniChains.length ? [tlsInspectorListenerFilter()] : [],
    filterChains: [...sniChains, create(FilterChainSchema, { name, filters: [tcpProxyFilter(buildTcp(scope, svc, port))] })],
  });
}

/** The ports with HTTP services, and the TCP service ports with a VIP, among the visible services (sorted). */
export function outboundPorts(services: readonly MeshService[]): { http: number[]; tcp: { svc: MeshService; port: number }[] } {
  const http = new Set<number>();
  const tcp: { svc: MeshService; port: number }[] = [];
  const seen = new Set<string>();
  for (const svc of services) {
    for (const p of svc.ports) {
      const kind = portKind(p);
      if (kind === 'http') http.add(p.port);
      // A TCP service needs a VIP to be told apart; headless TCP services fall to passthrough.
      if (kind === 'tcp' && svc.vip && !seen.has(`${svc.vip}_${p.port}`)) {
        seen.add(`${svc.vip}_${p.port}`);
        tcp.push({ svc, port: p.port });
      }
    }
  }
  return { http: [...http].sort((a, b) => a - b), tcp };
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
