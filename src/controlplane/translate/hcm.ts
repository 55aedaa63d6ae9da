import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { AccessLogSchema } from '../../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { FilterSchema, type Filter } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { StdoutAccessLogSchema } from '../../gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import { CorsSchema } from '../../gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { HTTPFaultSchema } from '../../gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { RouterSchema } from '../../gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_CodecType,
  HttpConnectionManager_ForwardClientCertDetails,
  HttpConnectionManager_SetCurrentClientCertDetailsSchema,
  HttpConnectionManager_UpgradeConfigSchema,
  HttpFilterSchema,
  RdsSchema,
  type HttpConnectionManager,
  type HttpFilter,
} from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema, type TcpProxy } from '../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { adsConfigSource, typed } from './common.js';

/** Envoy's well-known extension names, as Istio writes them. */
export const FilterName = {
  hcm: 'envoy.filters.network.http_connection_manager',
  tcpProxy: 'envoy.filters.network.tcp_proxy',
  router: 'envoy.filters.http.router',
  fault: 'envoy.filters.http.fault',
  cors: 'envoy.filters.http.cors',
  originalDst: 'envoy.filters.listener.original_dst',
  tlsInspector: 'envoy.filters.listener.tls_inspector',
  httpInspector: 'envoy.filters.listener.http_inspector',
  httpRbac: 'envoy.filters.http.rbac',
  networkRbac: 'envoy.filters.network.rbac',
  stdoutLog: 'envoy.access_loggers.stdout',
  fileLog: 'envoy.access_loggers.file',
} as const;

function routerFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: FilterName.router, configType: { case: 'typedConfig', value: typed(RouterSchema, {}) } });
}

function faultFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: FilterName.fault, configType: { case: 'typedConfig', value: typed(HTTPFaultSchema, {}) } });
}

function corsFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: FilterName.cors, configType: { case: 'typedConfig', value: typed(CorsSchema, {}) } });
}

function stdoutAccessLog() {
  return create(AccessLogSchema, { name: FilterName.stdoutLog, configType: { case: 'typedConfig', value: typed(StdoutAccessLogSchema, {}) } });
}

export type RouteSource = { rds: string } | { inline: RouteConfiguration };

/**
 * A sidecar's HTTP connection manager: AUTO codec, access log to stdout,
 * no remote-address trust (we are not the edge), request ids, no tracing,
 * websocket upgrades allowed (istiod sets exactly that one upgrade type on
 * every sidecar HCM, inbound and outbound; CONNECT only for ambient's HBONE).
 * `fault` adds the filters VirtualService routes configure per route (outbound:
 * fault injection, then CORS, in istiod's order); the router is always last.
 */
export function sidecarHcm(statPrefix: string, routes: RouteSource, fault: boolean): HttpConnectionManager {
  return create(HttpConnectionManagerSchema, {
    statPrefix,
    codecType: HttpConnectionManager_CodecType.AUTO,
    routeSpecifier: 'rds' in routes
      ? { case: 'rds', value: create(RdsSchema, { configSource: adsConfigSource(), routeConfigName: routes.rds }) }
      : { case: 'routeConfig', value: routes.inline },
    httpFilters: fault ? [faultFilter(), corsFilter(), routerFilter()] : [routerFilter()],
    accessLog: [stdoutAccessLog()],
    useRemoteAddress: false,
    upgradeConfigs: [create(HttpConnectionManager_UpgradeConfigSchema, { upgradeType: 'websocket' })],
    generateRequestId: true,
  });
}

/**
 * An inbound chain's HCM: the sidecar's, with the authentication and
 * authorization filters (`security`, in order) before the router, and the caller's identity for the app in
 * x-forwarded-client-cert (istiod's defaults for sidecar inbound: APPEND_FORWARD,
 * and Subject, URI and DNS of the client certificate; no cert, no chain).
 */
export function inboundHcm(statPrefix: string, route: RouteConfiguration, security: readonly HttpFilter[]): HttpConnectionManager {
  const hcm = sidecarHcm(statPrefix, { inline: route }, false);
  hcm.httpFilters = [...security, ...hcm.httpFilters];
  hcm.forwardClientCertDetails = HttpConnectionManager_ForwardClientCertDetails.APPEND_FORWARD;
  hcm.setCurrentClientCertDetails = create(HttpConnectionManager_SetCurrentClientCertDetailsSchema, { subject: true, uri: true, dns: true });
  return hcm;
}

/**
 * A gateway's HCM (istiod's buildGatewayConnectionManager): the edge of the
 * mesh, so the client's address is the remote address, x-forwarded-client-cert
 * is replaced by this hop's (SANITIZE_SET: a client cannot forge one), and
 * VirtualService faults apply (fault filter before the router).
 */
export function gatewayHcm(statPrefix: string, rds: string): HttpConnectionManager {
  const hcm = sidecarHcm(statPrefix, { rds }, true);
  hcm.useRemoteAddress = true;
  hcm.forwardClientCertDetails = HttpConnectionManager_ForwardClientCertDetails.SANITIZE_SET;
  hcm.setCurrentClientCertDetails = create(HttpConnectionManager_SetCurrentClientCertDetailsSchema, { subject: true, cert: true, dns: true, uri: true });
  return hcm;
}

/** The HCM gRPC's xDS client expects inside an API listener: RDS over ADS and the router. */
export function grpcHcm(routeConfigName: string): HttpConnectionManager {
  return create(HttpConnectionManagerSchema, {
    statPrefix: routeConfigName,
    routeSpecifier: { case: 'rds', value: create(RdsSchema, { configSource: adsConfigSource(), routeConfigName }) },
    httpFilters: [routerFilter()],
  });
}

export function hcmFilter(hcm: HttpConnectionManager): Filter {
  return create(FilterSchema, { name: FilterName.hcm, configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } });
}

/** A sidecar's TCP proxy filter: one access-log line per connection, to stdout like the HTTP ones (Trellis's default, as Istio's demo profile; a Telemetry replaces it: telemetry/listener-access-logs.ts). */
export function tcpProxyFilter(tcp: TcpProxy): Filter {
  // A copy: route translators share TcpProxy messages between listeners.
  const logged = tcp.accessLog.length > 0 ? tcp : create(TcpProxySchema, { ...tcp, accessLog: [stdoutAccessLog()] });
  return create(FilterSchema, { name: FilterName.tcpProxy, configType: { case: 'typedConfig', value: anyPack(TcpProxySchema, logged) } });
}

export function tcpProxyTo(cluster: string, statPrefix = cluster): TcpProxy {
  return create(TcpProxySchema, { statPrefix, clusterSpecifier: { case: 'cluster', value: cluster } });
}
