/**
 * VirtualService → Envoy routing. Entry points used by the listener and
 * generator translators (translate/listeners, translate/generator-impl).
 * Owned by the routes translator; signatures are the contract.
 */
import type { RouteConfiguration } from '../../../gen/envoy/config/route/v3/route_pb.js';
import type { TcpProxy } from '../../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { MeshModel, MeshService, SelectedRules } from '../../registry/model.js';
import type { ProxyNode } from '../../../xds/proxy-node.js';
import { buildGrpcRouteConfig, buildOutboundRouteConfig } from './build.js';
import { buildTcpProxy, buildTlsFilterChainMatches } from './tcp.js';
import type { RouteBuilders } from '../scope-resources.js';

export { buildOutboundRouteConfig, buildGrpcRouteConfig, serviceRoutes, isHttpPort } from './build.js';
export { buildTcpProxy, buildTlsFilterChainMatches, type TlsFilterChainMatch } from './tcp.js';

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

export type BuildOutboundRouteConfig = (scope: RouteScope, port: number) => RouteConfiguration;
export type BuildGrpcRouteConfig = (scope: RouteScope, hostname: string, port: number) => RouteConfiguration | undefined;
export type BuildTcpProxy = (scope: RouteScope, service: MeshService, port: number) => TcpProxy;

/** The route entry points in the shape the generator takes (createGenerator(model, routeBuilders)). */
export const routeBuilders: RouteBuilders = { outbound: buildOutboundRouteConfig, grpc: buildGrpcRouteConfig, tcp: buildTcpProxy, tls: buildTlsFilterChainMatches };
