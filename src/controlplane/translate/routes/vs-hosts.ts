/**
 * Virtual hosts for VirtualService hosts that name no visible service
 * ("hosts: [api.partner.com]" without a ServiceEntry). istiod serves them
 * (separateVSHostsAndServices): on the HTTP ports of the services the same
 * VirtualService routes for, or on port 80 when it routes for none.
 */
import { create } from '@bufbuild/protobuf';
import { VirtualHostSchema, type Route, type VirtualHost } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import type { VirtualService } from '../../../config/objects.js';
import type { MeshService } from '../../registry/model.js';
import type { RouteContext } from './action.js';
import { appliesToMesh, resolvedHosts, servicesSelectedBy, vsNamespace } from './hosts.js';
import { translateHttpRoute } from './http-route.js';
import type { RouteScope } from '../contracts.js';
import { isCatchAll } from './match.js';

/** The HTTP routes of one VirtualService for a port, cut after the first catch-all. */
export function vsRoutes(vs: VirtualService, ctx: RouteContext): Route[] {
  const routes: Route[] = [];
  for (const [i, r] of (vs.spec.http ?? []).entries()) {
    const field = `VirtualService/${ctx.vsNamespace}/${vs.metadata.name}.http[${i}]`;
    const translated = translateHttpRoute(r, ctx, field);
    const cut = translated.findIndex((t) => t.match !== undefined && isCatchAll(t.match));
    routes.push(...(cut >= 0 ? translated.slice(0, cut + 1) : translated));
    if (cut >= 0) break;
  }
  return routes;
}

function httpPorts(services: readonly MeshService[], isHttp: (s: MeshService, p: number) => boolean): Set<number> {
  const ports = new Set<number>();
  for (const s of services) for (const p of s.ports) if (isHttp(s, p.port)) ports.add(p.port);
  return ports;
}

/**
 * Virtual hosts "HOST:PORT" for the non-service hosts of every visible
 * VirtualService that serves `port`, in precedence order. Domains already
 * taken (by services or earlier VirtualServices) are skipped.
 */
export function nonServiceHosts(
  scope: RouteScope,
  port: number,
  taken: Set<string>,
  isHttp: (s: MeshService, p: number) => boolean,
): VirtualHost[] {
  const out: VirtualHost[] = [];
  // Nothing to do without a loose host; the common case, and 500 VirtualServices per configuration otherwise.
  if (!hasLooseHosts(scope)) return out;
  const { model } = scope;
  for (const vs of model.virtualServices(scope.namespace)) {
    if (!appliesToMesh(vs.spec.gateways) || (vs.spec.http ?? []).length === 0) continue;
    const ns = vsNamespace(vs);
    const hosts = resolvedHosts(vs, model.domainSuffix);
    const served = [...new Set(hosts.flatMap((h) => servicesSelectedBy(scope.services, h)))];
    const ports = httpPorts(served, isHttp);
    if (ports.size === 0) ports.add(80);
    if (!ports.has(port)) continue;
    // "*" stays with allow_any: Envoy rejects a second virtual host for the same domain.
    const loose = hosts.filter((h) => h !== '*' && servicesSelectedBy(scope.services, h).length === 0);
    const ctx: RouteContext = { model, namespace: scope.namespace, labels: scope.node?.labels, selectedRules: scope.selectedRules, port, vsNamespace: ns, vsName: vs.metadata.name, grpc: false };
    for (const host of loose) {
      const domains = [host, `${host}:${port}`].filter((d) => !taken.has(d));
      if (domains.length === 0) continue;
      const routes = vsRoutes(vs, ctx);
      if (routes.length === 0) continue;
      for (const d of domains) taken.add(d);
      out.push(create(VirtualHostSchema, { name: `${host}:${port}`, domains, routes, includeRequestAttemptCount: true }));
    }
  }
  return out;
}

const looseByScope = new WeakMap<RouteScope, boolean>();

/**
 * Does any VirtualService visible in the scope have a host that names no
 * visible service? Only then does nonServiceHosts look for domains taken by
 * services (see buildOutboundRouteConfig).
 */
export function hasLooseHosts(scope: RouteScope): boolean {
  let hit = looseByScope.get(scope);
  if (hit === undefined) {
    const { model } = scope;
    hit = model.virtualServices(scope.namespace).some((vs) =>
      appliesToMesh(vs.spec.gateways) && (vs.spec.http ?? []).length > 0 &&
      resolvedHosts(vs, model.domainSuffix).some((h) => h !== '*' && servicesSelectedBy(scope.services, h).length === 0));
    looseByScope.set(scope, hit);
  }
  return hit;
}
