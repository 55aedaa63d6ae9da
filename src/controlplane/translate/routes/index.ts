/**
 * VirtualService → Envoy routing. Entry points used by the listener and
 * generator translators (translate/listeners, translate/generator-impl).
 * Owned by the routes translator; the signatures are in ../contracts.ts.
 */
import type { RouteBuilders } from '../contracts.js';
import { buildGrpcRouteConfig, buildOutboundRouteConfig } from './build.js';
import { buildTcpProxy, buildTlsFilterChainMatches } from './tcp.js';

export { buildOutboundRouteConfig, buildGrpcRouteConfig, serviceRoutes, isHttpPort } from './build.js';
export { buildTcpProxy, buildTlsFilterChainMatches } from './tcp.js';
export type { BuildGrpcRouteConfig, BuildOutboundRouteConfig, BuildTcpProxy, RouteScope, TlsFilterChainMatch } from '../contracts.js';

/** The route entry points in the shape the generator takes (createGenerator(model, routeBuilders)). */
export const routeBuilders: RouteBuilders = { outbound: buildOutboundRouteConfig, grpc: buildGrpcRouteConfig, tcp: buildTcpProxy, tls: buildTlsFilterChainMatches };
