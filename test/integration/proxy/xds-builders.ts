/** Builders for hand-made Envoy v3 resources served by the fake ADS server. */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack, DurationSchema, type Any, type Duration } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { RouterSchema } from '../../../src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { StdoutAccessLogSchema } from '../../../src/gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import { CaresDnsResolverConfigSchema } from '../../../src/gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import type { RouteSchema, VirtualHostSchema } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';

export const ms = (n: number) => create(DurationSchema, { seconds: BigInt(Math.floor(n / 1000)), nanos: (n % 1000) * 1e6 });

const address = (port: number, host = '127.0.0.1') => ({
  address: { case: 'socketAddress' as const, value: { address: host, portSpecifier: { case: 'portValue' as const, value: port } } },
});

export type RouteInit = MessageInitShape<typeof RouteSchema>;
export type VirtualHostInit = MessageInitShape<typeof VirtualHostSchema>;

/** A stdout access log with `format` ('' = Istio's default); none when undefined. */
function stdoutLog(format: string | undefined) {
  if (format === undefined) return [];
  const init = format ? { accessLogFormat: { case: 'logFormat' as const, value: { format: { case: 'textFormat' as const, value: format } } } } : {};
  return [{ name: 'envoy.access_loggers.stdout', configType: { case: 'typedConfig' as const, value: anyPack(StdoutAccessLogSchema, create(StdoutAccessLogSchema, init)) } }];
}

/** HttpConnectionManager fields a test may set: timeouts, limits and upgrade types. */
export interface HcmTimeouts {
  requestHeadersTimeout?: Duration;
  streamIdleTimeout?: Duration;
  maxRequestHeadersKb?: number;
  upgradeConfigs?: Array<{ upgradeType: string; enabled?: boolean }>;
}

/** A listener on 127.0.0.1:port (0 = any) with one HTTP connection manager using RDS `routeName`. */
export function httpListener(name: string, routeName: string, port = 0, accessLogFormat?: string, hcmExtra: HcmTimeouts = {}): Any {
  const hcm = create(HttpConnectionManagerSchema, {
    ...hcmExtra,
    statPrefix: name,
    routeSpecifier: { case: 'rds', value: { routeConfigName: routeName, configSource: { configSourceSpecifier: { case: 'ads', value: {} } } } },
    httpFilters: [{ name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) } }],
    accessLog: stdoutLog(accessLogFormat),
  });
  return anyPack(ListenerSchema, create(ListenerSchema, {
    name,
    address: address(port),
    filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } }] }],
  }));
}

export function tcpListener(name: string, cluster: string, port = 0, accessLogFormat?: string): Any {
  const tp = create(TcpProxySchema, { statPrefix: name, clusterSpecifier: { case: 'cluster', value: cluster }, accessLog: stdoutLog(accessLogFormat) });
  return anyPack(ListenerSchema, create(ListenerSchema, {
    name,
    address: address(port),
    filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', configType: { case: 'typedConfig', value: anyPack(TcpProxySchema, tp) } }] }],
  }));
}

export function routeConfig(name: string, virtualHosts: VirtualHostInit[], extra: Partial<MessageInitShape<typeof RouteConfigurationSchema>> = {}): Any {
  return anyPack(RouteConfigurationSchema, create(RouteConfigurationSchema, { ...extra, name, virtualHosts } as MessageInitShape<typeof RouteConfigurationSchema>));
}

/** A route on a path prefix to one cluster. */
export function prefixRoute(prefix: string, cluster: string, action: Record<string, unknown> = {}): RouteInit {
  return {
    match: { pathSpecifier: { case: 'prefix', value: prefix } },
    action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: cluster }, ...action } },
  };
}

export interface ClusterOpts {
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  connectTimeoutMs?: number;
}

export function edsCluster(name: string, o: ClusterOpts = {}): Any {
  const thresholds = o.maxConnections !== undefined || o.maxPendingRequests !== undefined || o.maxRequests !== undefined
    ? [{ maxConnections: o.maxConnections, maxPendingRequests: o.maxPendingRequests, maxRequests: o.maxRequests }]
    : [];
  return anyPack(ClusterSchema, create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
    connectTimeout: ms(o.connectTimeoutMs ?? 1000),
    circuitBreakers: { thresholds },
  }));
}

export function rawCluster(init: MessageInitShape<typeof ClusterSchema>): Any {
  return anyPack(ClusterSchema, create(ClusterSchema, init));
}

export function endpoints(clusterName: string, ports: number[]): Any {
  return anyPack(ClusterLoadAssignmentSchema, create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: [{ lbEndpoints: ports.map((p) => ({ hostIdentifier: { case: 'endpoint' as const, value: { address: address(p) } } })) }],
  }));
}

/** A ClusterLoadAssignment with one LocalityLbEndpoints per entry: its priority, locality weight and ports. */
export function priorityEndpoints(clusterName: string, localities: Array<{ priority: number; weight?: number; zone?: string; ports: number[] }>): Any {
  return anyPack(ClusterLoadAssignmentSchema, create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: localities.map((l) => ({
      priority: l.priority,
      loadBalancingWeight: l.weight,
      locality: { region: 'r', zone: l.zone ?? `p${l.priority}` },
      lbEndpoints: l.ports.map((p) => ({ hostIdentifier: { case: 'endpoint' as const, value: { address: address(p) } } })),
    })),
  }));
}

/**
 * A STRICT_DNS or LOGICAL_DNS cluster resolving `targets` (name, port) with the c-ares resolver pointed at
 * `dnsServer` ("127.0.0.1:PORT"); `extra` sets refresh rate, TTL, lookup family.
 */
export function dnsCluster(name: string, type: 'STRICT_DNS' | 'LOGICAL_DNS', targets: Array<[string, number]>, dnsServer: string, extra: Record<string, unknown> = {}): Any {
  const [host, port] = dnsServer.split(':');
  const cares = create(CaresDnsResolverConfigSchema, { resolvers: [address(Number(port), host)] });
  return rawCluster({
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType[type] },
    connectTimeout: ms(1000),
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: targets.map(([h, p]) => ({ hostIdentifier: { case: 'endpoint' as const, value: { address: address(p, h) } } })) }] },
    typedDnsResolverConfig: { name: 'envoy.network.dns_resolver.cares', typedConfig: anyPack(CaresDnsResolverConfigSchema, cares) },
    ...extra,
  } as MessageInitShape<typeof ClusterSchema>);
}
