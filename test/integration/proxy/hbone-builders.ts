/**
 * Envoy resources shaped as istiod generates them for HBONE (pilot/pkg/networking/core:
 * listener_waypoint.go, cluster_waypoint.go, the sidecar's hbone transport socket match):
 * the connect_terminate listener (mTLS, HTTP/2 CONNECT routed to main_internal with the
 * connect_authority set_filter_state), internal listeners with original_dst, the
 * connect_originate tcp_proxy with tunneling_config over an ORIGINAL_DST HTTP/2 TLS cluster
 * (upstream_port_override, a URI SAN prefix), internal_upstream clusters whose endpoints are
 * envoy_internal_address with envoy.filters.listener.original_dst metadata.
 */
import { create, type JsonObject, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChainSchema, FilterSchema } from '../../../src/gen/envoy/config/listener/v3/listener_components_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpConnectionManagerSchema, type HttpFilterSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { RouterSchema } from '../../../src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { ConfigSchema as HttpSetFilterStateSchema } from '../../../src/gen/envoy/extensions/filters/http/set_filter_state/v3/set_filter_state_pb.js';
import { ConfigSchema as NetworkSetFilterStateSchema } from '../../../src/gen/envoy/extensions/filters/network/set_filter_state/v3/set_filter_state_pb.js';
import { FilterStateValue_SharedWithUpstream, type FilterStateValueSchema } from '../../../src/gen/envoy/extensions/filters/common/set_filter_state/v3/value_pb.js';
import { OriginalDstSchema } from '../../../src/gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { InternalUpstreamTransportSchema } from '../../../src/gen/envoy/extensions/transport_sockets/internal_upstream/v3/internal_upstream_pb.js';
import { RawBufferSchema } from '../../../src/gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SubjectAltNameMatcher_SanType, TlsParameters_TlsProtocol } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { HttpProtocolOptionsSchema } from '../../../src/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { StdoutAccessLogSchema } from '../../../src/gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import type { RouteSchema } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { ms } from './xds-builders.js';

type FilterInit = MessageInitShape<typeof FilterSchema>;
type HttpFilterInit = MessageInitShape<typeof HttpFilterSchema>;
type ChainInit = MessageInitShape<typeof FilterChainSchema>;
type RouteInit = MessageInitShape<typeof RouteSchema>;

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };
const typed = (value: Any) => ({ configType: { case: 'typedConfig' as const, value } });
const sock = (port: number) => ({ address: { case: 'socketAddress' as const, value: { address: '127.0.0.1', portSpecifier: { case: 'portValue' as const, value: port } } } });
const ORIGINAL_DST_MD = 'envoy.filters.listener.original_dst';
const router: HttpFilterInit = { name: 'envoy.filters.http.router', ...typed(anyPack(RouterSchema, create(RouterSchema))) };
const originalDst = { name: 'envoy.filters.listener.original_dst', ...typed(anyPack(OriginalDstSchema, create(OriginalDstSchema))) };

/** istiod's buildCommonConnectTLSContext: the SDS workload certificate, ROOTCA, h2, TLS 1.3. */
function connectTls(uriSanPrefix?: string): MessageInitShape<typeof CommonTlsContextSchema> {
  return {
    tlsParams: { tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3, tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3 },
    tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: ads }],
    validationContextType: {
      case: 'combinedValidationContext',
      value: {
        defaultValidationContext: {
          matchTypedSubjectAltNames: uriSanPrefix ? [{ sanType: SubjectAltNameMatcher_SanType.URI, matcher: { matchPattern: { case: 'prefix', value: uriSanPrefix } } }] : [],
        },
        validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads },
      },
    },
    alpnProtocols: ['h2'],
  };
}

/** A FilterStateValue: `key` formatted from `format`, shared once with upstream. */
function stateValue(key: string, format: string, factoryKey = ''): MessageInitShape<typeof FilterStateValueSchema> {
  return {
    key: { case: 'objectKey', value: key },
    factoryKey,
    value: { case: 'formatString', value: { format: { case: 'textFormatSource', value: { specifier: { case: 'inlineString', value: format } } } } },
    sharedWithUpstream: FilterStateValue_SharedWithUpstream.ONCE,
  };
}

/** istiod's ConnectAuthorityFilter (the parts Trellis reads): :authority → original_dst local_ip, and the peer's principal. */
const connectAuthority: HttpFilterInit = {
  name: 'connect_authority',
  ...typed(anyPack(HttpSetFilterStateSchema, create(HttpSetFilterStateSchema, {
    onRequestHeaders: [
      stateValue('envoy.filters.listener.original_dst.local_ip', '%REQ(:AUTHORITY)%'),
      stateValue('io.istio.connect_authority', '%REQ(:AUTHORITY)%', 'envoy.string'),
      stateValue('envoy.filters.listener.original_dst.remote_ip', '%DOWNSTREAM_REMOTE_ADDRESS%'),
      stateValue('io.istio.peer_principal', '%DOWNSTREAM_PEER_URI_SAN%', 'envoy.string'),
    ],
  }))),
};

/** istiod's ConnectAuthorityNetworkFilter: the destination handed to this internal connection, passed on once more. */
export const connectAuthorityNetwork: FilterInit = {
  name: 'connect_authority',
  ...typed(anyPack(NetworkSetFilterStateSchema, create(NetworkSetFilterStateSchema, {
    onNewConnection: [stateValue('envoy.filters.listener.original_dst.local_ip', '%FILTER_STATE(envoy.filters.listener.original_dst.local_ip:PLAIN)%')],
  }))),
};

function stdoutLog(format: string) {
  return [{ name: 'envoy.access_loggers.stdout', ...typed(anyPack(StdoutAccessLogSchema, create(StdoutAccessLogSchema, { accessLogFormat: { case: 'logFormat', value: { format: { case: 'textFormat', value: format } } } }))) }];
}

/** A CONNECT route terminated into `cluster` (buildWaypointInboundConnectTerminate's route). */
export const connectRoute = (cluster: string): RouteInit => ({
  match: { pathSpecifier: { case: 'connectMatcher', value: {} } },
  action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: cluster }, upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] } },
});

/**
 * The waypoint's HBONE terminate listener (buildConnectTerminateListener), on 127.0.0.1:0 for the test;
 * `direct` adds a virtual host per authority terminated straight into a TCP cluster; `plaintext` names a
 * listener without TLS (HTTP/1.1 CONNECT too), the same routes.
 */
export function connectTerminateListener(direct: Record<string, string> = {}, keepalive = { intervalMs: 10_000, timeoutMs: 20_000 }, plaintext?: string): Any {
  const name = plaintext ?? 'connect_terminate';
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: name,
    routeSpecifier: {
      case: 'routeConfig',
      value: {
        name: 'default',
        virtualHosts: [
          ...Object.entries(direct).map(([authority, cluster]) => ({ name: authority, domains: [authority], routes: [connectRoute(cluster)] })),
          { name: 'default', domains: ['*'], routes: [connectRoute('main_internal')] },
        ],
      },
    },
    streamIdleTimeout: ms(0),
    upgradeConfigs: [{ upgradeType: 'CONNECT' }],
    http2ProtocolOptions: { allowConnect: true, maxConcurrentStreams: 100, connectionKeepalive: { interval: ms(keepalive.intervalMs), timeout: ms(keepalive.timeoutMs) } },
    httpFilters: [connectAuthority, router],
    accessLog: stdoutLog('terminate %REQ(:METHOD)% %REQ(:AUTHORITY)% %RESPONSE_CODE% %RESPONSE_FLAGS% %DOWNSTREAM_PEER_URI_SAN%\n'),
  });
  return anyPack(ListenerSchema, create(ListenerSchema, {
    name,
    address: sock(0),
    filterChains: [{
      name: 'default',
      transportSocket: plaintext ? undefined : { name: 'tls', ...typed(anyPack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, { commonTlsContext: connectTls(), requireClientCertificate: true }))) },
      filters: [{ name: 'envoy.filters.network.http_connection_manager', ...typed(anyPack(HttpConnectionManagerSchema, hcm)) }],
    }],
  }));
}

/** An internal listener (Listener.internal_listener) with the original_dst listener filter. */
export function internalListener(name: string, chains: ChainInit[]): Any {
  return anyPack(ListenerSchema, create(ListenerSchema, {
    name,
    listenerSpecifier: { case: 'internalListener', value: {} },
    listenerFilters: [originalDst],
    filterChains: chains,
  }));
}

export function tcpProxyFilter(statPrefix: string, cluster: string, tunnelingHeaders?: Record<string, string>): FilterInit {
  const tp = create(TcpProxySchema, {
    statPrefix,
    clusterSpecifier: { case: 'cluster', value: cluster },
    tunnelingConfig: tunnelingHeaders ? {
      hostname: '%DOWNSTREAM_LOCAL_ADDRESS%',
      headersToAdd: Object.entries(tunnelingHeaders).map(([key, value]) => ({ header: { key, value } })),
    } : undefined,
    accessLog: stdoutLog(`${statPrefix} %DOWNSTREAM_LOCAL_ADDRESS% %UPSTREAM_HOST% %RESPONSE_FLAGS%\n`),
  });
  return { name: 'envoy.filters.network.tcp_proxy', ...typed(anyPack(TcpProxySchema, tp)) };
}

/** An HCM with inline routes and `filters` before the router (the waypoint's per-service HTTP chain). */
export function hcmFilter(statPrefix: string, routes: RouteInit[], filters: HttpFilterInit[] = []): FilterInit {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix,
    routeSpecifier: { case: 'routeConfig', value: { name: statPrefix, virtualHosts: [{ name: statPrefix, domains: ['*'], routes }] } },
    httpFilters: [...filters, router],
    accessLog: stdoutLog(`${statPrefix} %REQ(:PATH)% %RESPONSE_CODE% %UPSTREAM_CLUSTER% %UPSTREAM_HOST%\n`),
  });
  return { name: 'envoy.filters.network.http_connection_manager', ...typed(anyPack(HttpConnectionManagerSchema, hcm)) };
}

const h2ConnectOptions = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': anyPack(HttpProtocolOptionsSchema, create(HttpProtocolOptionsSchema, {
    upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: { allowConnect: true } } } },
  })),
};

/** istiod's connect_originate cluster; `hbonePort` replaces 15008 (the test's HBONE server has an ephemeral port). */
export function connectOriginateCluster(hbonePort: number, uriSanPrefix: string, name = 'connect_originate'): Any {
  return anyPack(ClusterSchema, create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    connectTimeout: ms(2000),
    cleanupInterval: ms(60_000),
    typedExtensionProtocolOptions: h2ConnectOptions,
    lbConfig: { case: 'originalDstLbConfig', value: { upstreamPortOverride: hbonePort, metadataKey: { key: ORIGINAL_DST_MD, path: [{ segment: { case: 'key', value: 'waypoint' } }] } } },
    transportSocket: { name: 'tls', ...typed(anyPack(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema, { commonTlsContext: connectTls(uriSanPrefix) }))) },
  }));
}

/** internal_upstream around raw_buffer, passing the host's original_dst and istio metadata (WaypointInternalUpstreamTransportSocket). */
const internalUpstream = {
  name: 'internal_upstream',
  ...typed(anyPack(InternalUpstreamTransportSchema, create(InternalUpstreamTransportSchema, {
    passthroughMetadata: [
      { kind: { kind: { case: 'host', value: {} } }, name: ORIGINAL_DST_MD },
      { kind: { kind: { case: 'host', value: {} } }, name: 'istio' },
    ],
    transportSocket: { name: 'raw_buffer', ...typed(anyPack(RawBufferSchema, create(RawBufferSchema))) },
  }))),
};

/** An endpoint of `listener` for the workload at 127.0.0.1:port (BuildInternalLbEndpoint with tunnel metadata). */
function internalEndpoint(listener: string, port: number, socketMatch?: JsonObject) {
  const local = `127.0.0.1:${port}`;
  return {
    hostIdentifier: {
      case: 'endpoint' as const,
      value: { address: { address: { case: 'envoyInternalAddress' as const, value: { addressNameSpecifier: { case: 'serverListenerName' as const, value: listener }, endpointId: local } } } },
    },
    metadata: { filterMetadata: { [ORIGINAL_DST_MD]: { local }, ...(socketMatch ? { 'envoy.transport_socket_match': socketMatch } : {}) } },
  };
}

/** A STATIC cluster to the internal listener `listener` (main_internal: no metadata, the route's filter state carries the destination). */
export function internalCluster(name: string, listener: string, workloadPorts: number[]): Any {
  return anyPack(ClusterSchema, create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: ms(1000),
    loadAssignment: {
      clusterName: name,
      endpoints: [{ lbEndpoints: workloadPorts.length ? workloadPorts.map((p) => internalEndpoint(listener, p)) : [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'envoyInternalAddress', value: { addressNameSpecifier: { case: 'serverListenerName', value: listener } } } } } } }] }],
    },
    transportSocket: internalUpstream,
  }));
}

/**
 * A sidecar's outbound cluster whose endpoints are ambient workloads: transport_socket_matches "hbone" on tunnel=http;
 * `h2`: the service speaks HTTP/2 (istiod's http2 protocol options for gRPC / h2c ports).
 */
export function hboneSidecarCluster(name: string, workloadPorts: number[], h2 = false, listener = 'connect_originate'): Any {
  return anyPack(ClusterSchema, create(ClusterSchema, {
    name,
    typedExtensionProtocolOptions: h2 ? {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': anyPack(HttpProtocolOptionsSchema, create(HttpProtocolOptionsSchema, {
        upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } },
      })),
    } : {},
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: ms(1000),
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: workloadPorts.map((p) => internalEndpoint(listener, p, { tunnel: 'http' })) }] },
    transportSocketMatches: [{ name: 'hbone', match: { tunnel: 'http' }, transportSocket: internalUpstream }],
  }));
}

/** An ORIGINAL_DST cluster without TLS (the waypoint's passthrough to the restored destination). */
export function originalDstCluster(name: string): Any {
  return anyPack(ClusterSchema, create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    connectTimeout: ms(1000),
  }));
}
