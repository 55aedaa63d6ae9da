/**
 * The shapes translate/ shares between its parts: what a proxy's scope sees,
 * the route builders the generator calls (implemented by routes/), the
 * inbound service shape and the generator kind. A leaf: it imports only
 * types from registry/, xds/ and the generated API, never another translate/
 * module, so that every translator can depend on it without a cycle
 * (test/unit/controlplane/import-cycles.test.ts keeps it so).
 */
import type { RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import type { TcpProxy } from '../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { MeshModel, MeshService, SelectedRules } from '../registry/model.js';
import type { ProxyNode } from '../../xds/proxy-node.js';

/** Which client the resources are for: Envoy (and Trellis's proxy) or proxyless gRPC. */
export type GeneratorKind = 'envoy' | 'grpc';

/** What a proxy can see: computed once per scope (namespace + Sidecar + generator). */
export interface RouteScope {
  readonly model: MeshModel;
  /** Namespace of the proxy (VirtualService/DestinationRule visibility). */
  readonly namespace: string;
  /** Services visible to the proxy after exportTo and Sidecar egress hosts, sorted by hostname. */
  readonly services: readonly MeshService[];
  readonly node?: ProxyNode;
  /** DestinationRules with a workloadSelector that select the proxy (they win over the namespace's plain rules). */
  readonly selectedRules?: SelectedRules;
}

/** One TLS filter chain: SNI names and where their connections go. */
export interface TlsFilterChainMatch {
  serverNames: string[];
  tcpProxy: TcpProxy;
}

export type BuildOutboundRouteConfig = (scope: RouteScope, port: number) => RouteConfiguration;
export type BuildGrpcRouteConfig = (scope: RouteScope, hostname: string, port: number) => RouteConfiguration | undefined;
export type BuildTcpProxy = (scope: RouteScope, service: MeshService, port: number) => TcpProxy;
/** SNI-matched filter chains for a TLS/HTTPS port (routes/tcp.ts buildTlsFilterChainMatches). */
export type BuildTlsFilterChainMatches = (scope: RouteScope, service: MeshService, port: number) => TlsFilterChainMatch[];

/** The route builders the generator calls (owned by translate/routes); `tls` adds SNI filter chains on TLS/HTTPS ports. */
export interface RouteBuilders {
  outbound: BuildOutboundRouteConfig;
  grpc: BuildGrpcRouteConfig;
  tcp: BuildTcpProxy;
  tls?: BuildTlsFilterChainMatches;
}

/** A Service a workload's inbound side serves, as the inbound listener and cluster metadata name it. */
export interface InboundService {
  host: string;
  name: string;
  namespace: string;
}
