/**
 * VirtualService tcp and tls routes → TcpProxy filters for a sidecar's
 * outbound TCP listener (Istio's buildOutboundNetworkFilters).
 */
import { create } from '@bufbuild/protobuf';
import {
  TcpProxySchema,
  TcpProxy_WeightedClusterSchema,
  TcpProxy_WeightedCluster_ClusterWeightSchema,
  type TcpProxy,
} from '../../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { L4MatchAttributes, RouteDestination, VirtualService } from '../../../config/objects.js';
import type { MeshService } from '../../registry/model.js';
import { outboundClusterName } from '../names.js';
import { destinationCluster, type RouteContext } from './action.js';
import { appliesToMesh, vsNamespace, vsSelects } from './hosts.js';
import type { RouteScope, TlsFilterChainMatch } from '../contracts.js';
import { matchApplies, type MatchContext } from './match.js';

function contextFor(scope: RouteScope, port: number, vs: VirtualService): RouteContext {
  return { model: scope.model, namespace: scope.namespace, labels: scope.node?.labels, selectedRules: scope.selectedRules, port, vsNamespace: vsNamespace(vs), vsName: vs.metadata.name, grpc: false };
}

function matches(blocks: readonly L4MatchAttributes[] | undefined, ctx: MatchContext): boolean {
  return blocks === undefined || blocks.length === 0 || blocks.some((m) => matchApplies(m, ctx));
}

/**
 * A TcpProxy to one cluster, or weighted clusters (weight-0 destinations
 * dropped when others carry traffic). statPrefix is the service's default
 * cluster name, as Istio names the listener's stats after the service.
 */
export function tcpProxy(dests: readonly RouteDestination[], ctx: RouteContext, statPrefix: string): TcpProxy {
  const live = dests.filter((d) => (d.weight ?? 0) > 0);
  const used = live.length > 0 ? live : dests;
  const clusters = used.map((d) => ({ name: destinationCluster(d.destination, ctx).cluster, weight: live.length > 0 ? d.weight! : 1 }));
  if (clusters.length === 1) return create(TcpProxySchema, { statPrefix: clusters[0]!.name, clusterSpecifier: { case: 'cluster', value: clusters[0]!.name } });
  const weighted = create(TcpProxy_WeightedClusterSchema, { clusters: clusters.map((c) => create(TcpProxy_WeightedCluster_ClusterWeightSchema, c)) });
  return create(TcpProxySchema, { statPrefix, clusterSpecifier: { case: 'weightedClusters', value: weighted } });
}

/**
 * The TcpProxy for `service` on TCP port `port`: the first tcp route (of the
 * first VirtualService, in precedence order, that has one) whose match
 * applies to this port and proxy; else the service's default cluster.
 */
export function buildTcpProxy(scope: RouteScope, service: MeshService, port: number): TcpProxy {
  const fallback = outboundClusterName(port, undefined, service.hostname);
  for (const vs of scope.model.virtualServices(scope.namespace)) {
    if (!appliesToMesh(vs.spec.gateways) || !vsSelects(vs, service.hostname, scope.model.domainSuffix)) continue;
    const ctx = contextFor(scope, port, vs);
    for (const r of vs.spec.tcp ?? []) {
      if ((r.route ?? []).length > 0 && matches(r.match, ctx)) return tcpProxy(r.route!, ctx, fallback);
    }
  }
  return create(TcpProxySchema, { statPrefix: fallback, clusterSpecifier: { case: 'cluster', value: fallback } });
}

/**
 * Filter chain matches for TLS routes to `service` on `port`, in precedence
 * order. An SNI name claimed by an earlier route is not repeated (Envoy
 * rejects identical filter chain matches). Empty when no tls route applies:
 * the listener then uses buildTcpProxy without an SNI match.
 */
export function buildTlsFilterChainMatches(scope: RouteScope, service: MeshService, port: number): TlsFilterChainMatch[] {
  const fallback = outboundClusterName(port, undefined, service.hostname);
  const seen = new Set<string>();
  const out: TlsFilterChainMatch[] = [];
  for (const vs of scope.model.virtualServices(scope.namespace)) {
    if (!appliesToMesh(vs.spec.gateways) || !vsSelects(vs, service.hostname, scope.model.domainSuffix)) continue;
    const ctx = contextFor(scope, port, vs);
    for (const r of vs.spec.tls ?? []) {
      if ((r.route ?? []).length === 0) continue;
      const names = r.match.filter((m) => matchApplies(m, ctx)).flatMap((m) => m.sniHosts);
      const serverNames = [...new Set(names)].filter((n) => !seen.has(n));
      if (serverNames.length === 0) continue;
      for (const n of serverNames) seen.add(n);
      out.push({ serverNames, tcpProxy: tcpProxy(r.route!, ctx, fallback) });
    }
  }
  return out;
}
