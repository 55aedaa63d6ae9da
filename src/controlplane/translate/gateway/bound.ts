/**
 * Which VirtualServices a gateway serves, and for which hosts (istiod's
 * VirtualServicesForGateway, host.NamesForNamespace + Intersection and
 * pickMatchingGatewayHosts).
 */
import type { VirtualService } from '../../../config/objects.js';
import type { MeshModel } from '../../registry/model.js';
import type { RouteContext } from '../routes/action.js';
import type { RouteScope } from '../routes/index.js';
import { hostMatches, resolveHost, resolvedHosts, vsNamespace } from '../routes/hosts.js';
import { qualifiedGatewayName } from '../routes/match.js';
import type { ServerRef } from './merge.js';

/**
 * The VirtualServices visible from the router's namespace that name
 * `gateway` ("ns/name") in their gateways ("name" is in the VirtualService's
 * own namespace; "mesh" is for sidecars only), oldest first.
 */
export function virtualServicesForGateway(model: MeshModel, proxyNamespace: string, gateway: string): VirtualService[] {
  return model.virtualServices(proxyNamespace).filter((vs) => (vs.spec.gateways ?? []).some((g) => qualifiedGatewayName(g, vsNamespace(vs)) === gateway));
}

/** The server's hosts a VirtualService in `namespace` may use: "ns/h" only for its own namespace, bare hosts for all. */
function serverHostsFor(ref: ServerRef, namespace: string): string[] {
  const out: string[] = [];
  for (const h of ref.hosts) {
    const slash = h.indexOf('/');
    if (slash < 0) out.push(h);
    else if (h.slice(0, slash) === namespace || h.slice(0, slash) === '*') out.push(h.slice(slash + 1));
  }
  return out;
}

/** Is every name `a` covers also covered by `b`? (istiod's host.Name.SubsetOf) */
function subsetOf(a: string, b: string): boolean {
  if (b === '*' || a === b) return true;
  if (a === '*') return false;
  if (a.startsWith('*.')) return b.startsWith('*.') && a.endsWith(b.slice(1));
  return hostMatches(b, a);
}

/**
 * The hosts a server and a VirtualService share, each the narrower of a
 * matching pair, lower-cased (istiod's Names.Intersection): a VirtualService
 * for "*.example.com" on a server for "a.example.com" serves "a.example.com".
 */
export function intersectingHosts(ref: ServerRef, vs: VirtualService, domainSuffix: string): string[] {
  const out: string[] = [];
  const vsHosts = resolvedHosts(vs, domainSuffix);
  for (const s of serverHostsFor(ref, vsNamespace(vs))) {
    for (const v of vsHosts) {
      const hit = subsetOf(s, v) ? s : subsetOf(v, s) ? v : undefined;
      if (hit !== undefined && !out.includes(hit.toLowerCase())) out.push(hit.toLowerCase());
    }
  }
  return out;
}

/** Does a VirtualService serve any of the server's hosts (TCP and TLS servers: the host only selects the VirtualService)? */
export function vsMatchesServer(ref: ServerRef, vs: VirtualService, domainSuffix: string): boolean {
  return intersectingHosts(ref, vs, domainSuffix).length > 0;
}

/** Every destination host (FQDN) a VirtualService's routes and mirrors name: the services whose clusters a gateway needs. */
export function destinationHosts(vs: VirtualService, domainSuffix: string): string[] {
  const ns = vsNamespace(vs);
  const hosts: string[] = [];
  for (const r of vs.spec.http ?? []) {
    for (const d of r.route ?? []) hosts.push(d.destination.host);
    if (r.mirror) hosts.push(r.mirror.host);
    for (const m of r.mirrors ?? []) hosts.push(m.destination.host);
  }
  for (const r of [...(vs.spec.tcp ?? []), ...(vs.spec.tls ?? [])]) for (const d of r.route ?? []) hosts.push(d.destination.host);
  return hosts.map((h) => resolveHost(h, ns, domainSuffix));
}

/** How a bound VirtualService's routes are translated for one server: its port, and its gateway alone. */
export function serverRouteContext(scope: RouteScope, ref: ServerRef, vs: VirtualService): RouteContext {
  return {
    model: scope.model, namespace: scope.namespace, labels: scope.node?.labels, selectedRules: scope.selectedRules, port: ref.server.port.number, grpc: false,
    vsNamespace: vsNamespace(vs), vsName: vs.metadata.name, gateways: new Set([ref.gateway]),
    gatewaySemantics: vs.metadata.annotations?.['internal.istio.io/route-semantics'] === 'gateway',
  };
}
