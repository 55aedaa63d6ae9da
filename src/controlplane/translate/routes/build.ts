/**
 * RDS for sidecars and proxyless gRPC: VirtualServices over the visible
 * services, as istiod builds them (BuildSidecarOutboundVirtualHosts).
 *
 * A route whose destination host is not in the model keeps its cluster name
 * ("outbound|9080||ghost.default.svc.cluster.local"). istiod does the same for
 * sidecars: validate_clusters is false so the configuration is accepted, and
 * Envoy answers such requests with 503 (NC) until the cluster exists. Dropping
 * the route instead would let the request fall through to a later, wrong route.
 */
import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../gen/envoy/config/route/v3/route_pb.js';
import { RouteActionSchema, RouteSchema, VirtualHostSchema, type Route, type VirtualHost } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import type { DestinationRule, HTTPRoute, VirtualService } from '../../../config/objects.js';
import type { MeshService } from '../../registry/model.js';
import { PassthroughCluster } from '../names.js';
import { routeAction, type RouteContext } from './action.js';
import { selectVirtualService, vsNamespace } from './hosts.js';
import type { RouteScope } from '../contracts.js';
import { routeDecorator } from './http-route.js';
import { catchAllMatch } from './match.js';
import { hasLooseHosts, nonServiceHosts, vsRoutes } from './vs-hosts.js';
import { zeroDuration } from './values.js';
import { hasUniqueDomains, memoServiceDomains, memoVirtualHost } from './vhost-memo.js';

/** Port protocols served by the HTTP connection manager (UNKNOWN is sniffed as HTTP). */
const httpFamily: ReadonlySet<string> = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'UNKNOWN']);

export function isHttpPort(svc: MeshService, port: number): boolean {
  return svc.ports.some((p) => p.port === port && httpFamily.has(p.protocol));
}

function context(scope: RouteScope, port: number, grpc: boolean): Omit<RouteContext, 'vsNamespace' | 'vsName'> {
  return { model: scope.model, namespace: scope.namespace, labels: scope.node?.labels, selectedRules: scope.selectedRules, port, grpc };
}

const hasHttp = (vs: VirtualService) => (vs.spec.http ?? []).length > 0;

/**
 * The routes of one service port: the first VirtualService's HTTP routes in
 * order, cut after the first catch-all (Istio: later routes are unreachable),
 * or Istio's "default" route when no VirtualService yields any route.
 */
export function serviceRoutes(scope: RouteScope, svc: MeshService, port: number, grpc: boolean): Route[] {
  return routesFor(scope, svc, port, grpc, selectVirtualService(scope.model, scope.namespace, svc.hostname, hasHttp), undefined);
}

/** serviceRoutes for an already selected VirtualService; DestinationRule lookups are recorded into `rules`. */
function routesFor(
  scope: RouteScope,
  svc: MeshService,
  port: number,
  grpc: boolean,
  vs: VirtualService | undefined,
  rules: Map<string, DestinationRule | undefined> | undefined,
): Route[] {
  const base = { ...context(scope, port, grpc), rules };
  const routes = vs === undefined ? [] : vsRoutes(vs, { ...base, vsNamespace: vsNamespace(vs), vsName: vs.metadata.name });
  if (routes.length > 0) return routes;
  const fallback: HTTPRoute = { route: [{ destination: { host: svc.hostname, port: { number: port } } }] };
  const action = routeAction(fallback, undefined, { ...base, vsNamespace: svc.namespace, vsName: '' }, `default route ${svc.hostname}:${port}`);
  // istiod's proxyless default route (grpcgen defaultSingleClusterRoute) has no retries: gRPC would otherwise
  // retry UNAVAILABLE/CANCELLED calls the application never asked to retry.
  if (grpc) action.retryPolicy = undefined;
  const route = create(RouteSchema, { name: 'default', match: catchAllMatch(), action: { case: 'route', value: action } });
  route.decorator = routeDecorator(route, '', port);
  return [route];
}

/**
 * The domains of `svc` not yet taken, claiming them in `taken`. Envoy rejects
 * a RouteConfiguration with a domain in two virtual hosts; the first (sorted)
 * service keeps it. With `everyDomain` false (no VirtualService host needs
 * the set afterwards), a service whose domains no other service has skips
 * the set: ~12 domains × 1,000 services per configuration otherwise.
 */
function claimDomains(all: string[], taken: Set<string>, everyDomain: boolean, unique: () => boolean): string[] {
  if (!everyDomain && unique()) return all;
  let lost = false;
  for (const d of all) if (taken.has(d)) lost = true;
  const domains = lost ? all.filter((d) => !taken.has(d)) : all;
  for (const d of domains) taken.add(d);
  return domains;
}

function virtualHost(scope: RouteScope, svc: MeshService, port: number, grpc: boolean, taken: Set<string>, everyDomain = true): VirtualHost | undefined {
  const all = memoServiceDomains(scope.model, svc, port, scope.namespace);
  const domains = claimDomains(all, taken, everyDomain, () => hasUniqueDomains(scope.model, svc));
  if (domains.length === 0) return undefined;
  const lost = domains !== all;
  const vs = selectVirtualService(scope.model, scope.namespace, svc.hostname, hasHttp);
  const routes = (rules: Map<string, DestinationRule | undefined> | undefined) => routesFor(scope, svc, port, grpc, vs, rules);
  const make = (r: Route[]) => create(VirtualHostSchema, { name: `${svc.hostname}:${port}`, domains, routes: r, includeRequestAttemptCount: true });
  // Only the common case (no domain lost to an earlier service) is shared across namespaces.
  if (lost) return make(routes(undefined));
  return memoVirtualHost({ model: scope.model, namespace: scope.namespace, selectedRules: scope.selectedRules, svc, port, grpc, vs, domains }, routes, make);
}

/** Istio's ALLOW_ANY virtual host: unknown hosts go to the original destination. */
function allowAnyHost(): VirtualHost {
  const action = create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: PassthroughCluster }, timeout: zeroDuration() });
  return create(VirtualHostSchema, {
    name: 'allow_any',
    domains: ['*'],
    routes: [create(RouteSchema, { name: 'allow_any', match: catchAllMatch(), action: { case: 'route', value: action } })],
    includeRequestAttemptCount: true,
  });
}

/**
 * The RouteConfiguration "PORT" for a sidecar's outbound HTTP listener on
 * `port`: one virtual host per visible service with an HTTP-family port
 * `port` (in scope.services order), then VirtualService hosts that name no
 * service (see vs-hosts.ts), then "allow_any".
 */
export function buildOutboundRouteConfig(scope: RouteScope, port: number): RouteConfiguration {
  const taken = new Set<string>();
  const virtualHosts: VirtualHost[] = [];
  const everyDomain = hasLooseHosts(scope);
  for (const svc of scope.services) {
    if (!isHttpPort(svc, port)) continue;
    const vh = virtualHost(scope, svc, port, false, taken, everyDomain);
    if (vh !== undefined) virtualHosts.push(vh);
  }
  virtualHosts.push(...nonServiceHosts(scope, port, taken, isHttpPort), allowAnyHost());
  return create(RouteConfigurationSchema, { name: String(port), virtualHosts, validateClusters: false });
}

/**
 * The RouteConfiguration "HOST:PORT" for a proxyless gRPC client: one virtual
 * host whose domains include the target authority "HOST:PORT". Only routes
 * grpc-js-xds accepts (cluster or weighted clusters with a positive sum).
 * Undefined when the host is unknown, not visible, or has no such port.
 */
export function buildGrpcRouteConfig(scope: RouteScope, hostname: string, port: number): RouteConfiguration | undefined {
  const svc = scope.services.find((s) => s.hostname === hostname);
  if (svc === undefined || !svc.ports.some((p) => p.port === port)) return undefined;
  const vh = virtualHost(scope, svc, port, true, new Set());
  return create(RouteConfigurationSchema, { name: `${hostname}:${port}`, virtualHosts: vh === undefined ? [] : [vh], validateClusters: false });
}
