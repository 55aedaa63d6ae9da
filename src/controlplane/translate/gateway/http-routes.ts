/**
 * A gateway's route configuration ("http.8080", "https.443.https.GW.NS"),
 * as istiod's buildGatewayHTTPRouteConfig: for each server of the route
 * name, each VirtualService bound to its gateway contributes its HTTP
 * routes (match blocks whose gateways name another gateway are skipped) to
 * one virtual host per host the server and the VirtualService share; a
 * server with tls.httpsRedirect makes its virtual hosts require TLS (301 to
 * https); no virtual host at all gives "blackhole:PORT", whose empty route
 * list answers 404 NR.
 */
import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema, VirtualHost_TlsRequirementType, type Route, type VirtualHost } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import type { RouteScope } from '../routes/index.js';
import { vsRoutes } from '../routes/vs-hosts.js';
import { intersectingHosts, serverRouteContext, virtualServicesForGateway } from './bound.js';
import type { MergedGateway } from './merge.js';

/** Envoy's and istiod's default limit for direct response bodies. */
const MAX_DIRECT_RESPONSE_BODY = 1024 * 1024;

export function buildGatewayRouteConfig(scope: RouteScope, merged: MergedGateway, routeName: string): RouteConfiguration | undefined {
  const servers = merged.serversByRoute.get(routeName);
  if (servers === undefined) return undefined;
  const { model } = scope;
  const vhosts = new Map<string, VirtualHost>();
  for (const ref of servers) {
    const port = ref.server.port.number;
    const redirect = ref.server.tls?.httpsRedirect === true;
    for (const vs of virtualServicesForGateway(model, scope.namespace, ref.gateway)) {
      const hosts = intersectingHosts(ref, vs, model.domainSuffix);
      if (hosts.length === 0) continue;
      const routes = vsRoutes(vs, serverRouteContext(scope, ref, vs));
      for (const host of hosts) {
        const vh = vhosts.get(host);
        if (vh) vh.routes.push(...routes);
        else vhosts.set(host, virtualHost(host, port, [...routes]));
        if (redirect) vhosts.get(host)!.requireTls = VirtualHost_TlsRequirementType.ALL;
      }
    }
    // A redirecting server answers for its hosts even without a VirtualService.
    if (redirect) {
      for (const h of ref.hosts.map((x) => x.slice(x.indexOf('/') + 1).toLowerCase())) {
        const vh = vhosts.get(h) ?? virtualHost(h, port, []);
        vh.requireTls = VirtualHost_TlsRequirementType.ALL;
        vhosts.set(h, vh);
      }
    }
  }
  const virtualHosts = vhosts.size === 0
    ? [create(VirtualHostSchema, { name: `blackhole:${servers[0]!.server.port.number}`, domains: ['*'], routes: [] })]
    : [...vhosts.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return create(RouteConfigurationSchema, {
    name: routeName,
    virtualHosts,
    validateClusters: false,
    ignorePortInHostMatching: true,
    maxDirectResponseBodySizeBytes: MAX_DIRECT_RESPONSE_BODY,
  });
}

function virtualHost(host: string, port: number, routes: Route[]): VirtualHost {
  return create(VirtualHostSchema, { name: `${host}:${port}`, domains: [host], routes, includeRequestAttemptCount: true });
}
