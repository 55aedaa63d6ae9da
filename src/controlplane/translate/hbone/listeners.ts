/**
 * The HBONE listeners istiod writes for Envoy (listener_waypoint.go,
 * listener_inbound.go): connect_terminate on 15008 ends the mTLS and the
 * HTTP/2 CONNECT and hands each stream's bytes to the main_internal listener,
 * the CONNECT's :authority kept as the destination; connect_originate, an
 * internal listener, opens the HTTP/2 CONNECT to DESTINATION_IP:15008 for
 * what a cluster sends it. The destination travels as filter state
 * (envoy.filters.listener.original_dst.local_ip, set by set_filter_state from
 * :authority) or endpoint metadata (original_dst.local), and the original_dst
 * listener filter of the internal listener restores it as the local address.
 */
import { create } from '@bufbuild/protobuf';
import { DataSourceSchema, TrafficDirection } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { Http2ProtocolOptionsSchema, KeepaliveSettingsSchema } from '../../../gen/envoy/config/core/v3/protocol_pb.js';
import { SubstitutionFormatStringSchema } from '../../../gen/envoy/config/core/v3/substitution_format_string_pb.js';
import { FilterChainSchema } from '../../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { ListenerSchema, Listener_InternalListenerConfigSchema, type Listener } from '../../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../gen/envoy/config/route/v3/route_pb.js';
import {
  RouteActionSchema,
  RouteAction_UpgradeConfigSchema,
  RouteAction_UpgradeConfig_ConnectConfigSchema,
  RouteMatchSchema,
  RouteMatch_ConnectMatcherSchema,
  RouteSchema,
  VirtualHostSchema,
} from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import { FilterStateValueSchema, FilterStateValue_SharedWithUpstream } from '../../../gen/envoy/extensions/filters/common/set_filter_state/v3/value_pb.js';
import { ConfigSchema as SetFilterStateSchema } from '../../../gen/envoy/extensions/filters/http/set_filter_state/v3/set_filter_state_pb.js';
import {
  HttpConnectionManager_UpgradeConfigSchema,
  HttpFilterSchema,
} from '../../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxy_TunnelingConfigSchema } from '../../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { durationMs, socketAddress, typed } from '../common.js';
import { hcmFilter, sidecarHcm, tcpProxyFilter, tcpProxyTo } from '../hcm.js';
import { originalDstListenerFilter } from '../listener-filters.js';
import { zeroDuration } from '../routes/values.js';
import { connectTerminateTls } from './tls.js';
import { ConnectOriginate, ConnectTerminate, HbonePort, MainInternal, OriginalDstLocalIp, OriginalDstRemoteIp } from './names.js';

/** Envoy's (and istiod's) upgrade type for CONNECT. */
export const ConnectUpgradeType = 'CONNECT';

/** Envoy's own string object factory: istiod names Istio's (istio.hashable_string), which only Istio's Envoy build has. */
const StringFactory = 'envoy.string';

function filterState(key: string, format: string, factoryKey = '') {
  return create(FilterStateValueSchema, {
    key: { case: 'objectKey', value: key },
    factoryKey,
    value: { case: 'formatString', value: create(SubstitutionFormatStringSchema, { format: { case: 'textFormatSource', value: create(DataSourceSchema, { specifier: { case: 'inlineString', value: format } }) } }) },
    sharedWithUpstream: FilterStateValue_SharedWithUpstream.ONCE,
  });
}

/**
 * istiod's connect_authority filter: the CONNECT's :authority as the
 * destination (and as io.istio.connect_authority), the tunnel's peer as the
 * source and its SPIFFE id as io.istio.peer_principal — shared ONCE, with the
 * internal connection the router opens. istiod also stores the local
 * principal; nothing reads it here.
 */
function connectAuthorityFilter() {
  return create(HttpFilterSchema, {
    name: 'connect_authority',
    configType: {
      case: 'typedConfig',
      value: typed(SetFilterStateSchema, {
        onRequestHeaders: [
          filterState(OriginalDstLocalIp, '%REQ(:AUTHORITY)%'),
          filterState('io.istio.connect_authority', '%REQ(:AUTHORITY)%', StringFactory),
          filterState(OriginalDstRemoteIp, '%DOWNSTREAM_REMOTE_ADDRESS%'),
          filterState('io.istio.peer_principal', '%DOWNSTREAM_PEER_URI_SAN%', StringFactory),
        ],
      }),
    },
  });
}

/** CONNECT (and only CONNECT) to main_internal, the stream's bytes proxied as TCP. */
function connectRoute() {
  const action = create(RouteActionSchema, {
    clusterSpecifier: { case: 'cluster', value: MainInternal },
    upgradeConfigs: [create(RouteAction_UpgradeConfigSchema, { upgradeType: ConnectUpgradeType, connectConfig: create(RouteAction_UpgradeConfig_ConnectConfigSchema, {}) })],
  });
  return create(RouteSchema, {
    match: create(RouteMatchSchema, { pathSpecifier: { case: 'connectMatcher', value: create(RouteMatch_ConnectMatcherSchema, {}) } }),
    action: { case: 'route', value: action },
  });
}

/** connect_terminate on 0.0.0.0:15008 (HTTP/2 only, ztunnel's 10 s / 20 s keepalive, 100 streams, no idle timeout). */
export function connectTerminateListener(trustDomain: string): Listener {
  const routeConfig = create(RouteConfigurationSchema, { name: 'default', virtualHosts: [create(VirtualHostSchema, { name: 'default', domains: ['*'], routes: [connectRoute()] })] });
  const hcm = sidecarHcm(ConnectTerminate, { inline: routeConfig }, false);
  hcm.httpFilters = [connectAuthorityFilter(), ...hcm.httpFilters];
  hcm.upgradeConfigs = [create(HttpConnectionManager_UpgradeConfigSchema, { upgradeType: ConnectUpgradeType })];
  hcm.http2ProtocolOptions = create(Http2ProtocolOptionsSchema, {
    allowConnect: true,
    maxConcurrentStreams: 100,
    connectionKeepalive: create(KeepaliveSettingsSchema, { interval: durationMs(10_000), timeout: durationMs(20_000) }),
  });
  hcm.streamIdleTimeout = zeroDuration();
  return create(ListenerSchema, {
    name: ConnectTerminate,
    address: socketAddress('0.0.0.0', HbonePort),
    trafficDirection: TrafficDirection.INBOUND,
    filterChains: [create(FilterChainSchema, { name: 'default', transportSocket: connectTerminateTls(trustDomain), filters: [hcmFilter(hcm)] })],
  });
}

/** An internal listener (no socket): reached only through clusters whose endpoints name it. */
export function internalListener(name: string, filterChains: Listener['filterChains'], direction: TrafficDirection): Listener {
  return create(ListenerSchema, {
    name,
    listenerSpecifier: { case: 'internalListener', value: create(Listener_InternalListenerConfigSchema, {}) },
    listenerFilters: [originalDstListenerFilter()],
    trafficDirection: direction,
    filterChains,
  });
}

/** connect_originate: every connection tunnelled to its (restored) local address as CONNECT :authority. */
export function connectOriginateListener(): Listener {
  const tcp = tcpProxyTo(ConnectOriginate);
  tcp.tunnelingConfig = create(TcpProxy_TunnelingConfigSchema, { hostname: '%DOWNSTREAM_LOCAL_ADDRESS%' });
  const l = internalListener(ConnectOriginate, [create(FilterChainSchema, { filters: [tcpProxyFilter(tcp)] })], TrafficDirection.UNSPECIFIED);
  l.useOriginalDst = false;
  return l;
}
