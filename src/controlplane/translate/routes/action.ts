/**
 * Istio HTTPRoute destinations and route-level options → Envoy RouteAction
 * (clusters or weighted clusters, timeout, retries, mirrors, rewrites,
 * consistent-hash policy).
 */
import { create } from '@bufbuild/protobuf';
import {
  RouteActionSchema,
  RouteAction_ClusterNotFoundResponseCode,
  RouteAction_MaxStreamDurationSchema,
  RouteAction_RequestMirrorPolicySchema,
  WeightedClusterSchema,
  WeightedCluster_ClusterWeightSchema,
  type RouteAction,
  type RouteAction_RequestMirrorPolicy,
} from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import { RuntimeFractionalPercentSchema } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { RegexMatchAndSubstituteSchema } from '../../../gen/envoy/type/matcher/v3/regex_pb.js';
import type { Destination, DestinationRule, HTTPMatchRequest, HTTPRoute, HTTPRouteDestination, Percent } from '../../../config/objects.js';
import type { MeshModel, SelectedRules } from '../../registry/model.js';
import { outboundClusterName } from '../names.js';
import { headerOps } from './headers.js';
import { hashPolicies } from './hash-policy.js';
import { resolveHost } from './hosts.js';
import { retryPolicy } from './retry.js';
import { escapeRe2, fractionFromInteger, fractionFromPercent, parseDuration, re2, zeroDuration } from './values.js';

/** Everything a route translation needs besides the route itself. */
export interface RouteContext {
  model: MeshModel;
  /** The proxy's namespace (DestinationRule lookup, sourceNamespace). */
  namespace: string;
  labels: Readonly<Record<string, string>> | undefined;
  /** The listener / route-configuration port. */
  port: number;
  /** Namespace of the VirtualService being translated (short-name resolution). */
  vsNamespace: string;
  /** Its name (tracing span names of routes with several destinations). */
  vsName: string;
  /** A router proxy: the gateways ("ns/name") of the server being translated (see MatchContext). */
  gateways?: ReadonlySet<string>;
  /** Proxyless gRPC: timeouts go to max_stream_duration, which is what grpc-js-xds reads. */
  grpc: boolean;
  /**
   * The VirtualService was converted from the Gateway API (annotation
   * internal.istio.io/route-semantics: gateway): istiod then matches
   * prefixes by path segment, strips a prefix rewritten to "/" with a
   * regex, and answers 500 for a backend without a cluster.
   */
  gatewaySemantics?: boolean;
  /**
   * When set, every DestinationRule lookup (the only namespace-dependent
   * input besides sourceNamespace matches) is recorded here by hostname, so
   * that a memoised result can be reused for another namespace that resolves
   * the same rules (see vhost-memo.ts).
   */
  rules?: Map<string, DestinationRule | undefined>;
  /** DestinationRules with a workloadSelector that select the proxy (RouteScope.selectedRules). */
  selectedRules?: SelectedRules;
}

/** The DestinationRule for `hostname` as seen from the proxy's namespace; recorded in ctx.rules. */
export function destinationRuleFor(ctx: RouteContext, hostname: string): DestinationRule | undefined {
  const dr = ctx.model.destinationRule(hostname, ctx.namespace, ctx.selectedRules);
  ctx.rules?.set(hostname, dr);
  return dr;
}

/**
 * Istio's GetDestinationCluster: the port is the destination's, else the
 * service's only port, else the listener port. A host the model does not
 * know still gets its cluster name; see buildOutboundRouteConfig for why.
 */
export function destinationCluster(dst: Destination, ctx: RouteContext): { cluster: string; hostname: string; port: number } {
  const hostname = resolveHost(dst.host, ctx.vsNamespace, ctx.model.domainSuffix);
  const svc = ctx.model.service(hostname);
  const port = dst.port?.number ?? (svc?.ports.length === 1 ? svc.ports[0]!.port : ctx.port);
  return { cluster: outboundClusterName(port, dst.subset, hostname), hostname, port };
}

/** Weight-0 destinations are dropped when others carry traffic (Istio); all-zero weights split evenly. */
export function effectiveWeights(route: readonly HTTPRouteDestination[]): { d: HTTPRouteDestination; weight: number }[] {
  const weighted = route.map((d) => ({ d, weight: d.weight ?? 0 }));
  const live = weighted.filter((w) => w.weight > 0);
  return live.length > 0 ? live : weighted.map((w) => ({ d: w.d, weight: 1 }));
}

export function routeAction(r: HTTPRoute, match: HTTPMatchRequest | undefined, ctx: RouteContext, field: string): RouteAction {
  const action = create(RouteActionSchema, {});
  const dsts = effectiveWeights(r.route ?? []);
  if (dsts.length === 1) {
    const { cluster, hostname, port } = destinationCluster(dsts[0]!.d.destination, ctx);
    action.clusterSpecifier = { case: 'cluster', value: cluster };
    action.hashPolicy = hashPolicies(destinationRuleFor(ctx, hostname), port, dsts[0]!.d.destination.subset);
  } else {
    const clusters = dsts.map(({ d, weight }) => {
      const req = headerOps(d.headers?.request);
      const resp = headerOps(d.headers?.response);
      return create(WeightedCluster_ClusterWeightSchema, {
        name: destinationCluster(d.destination, ctx).cluster,
        weight,
        requestHeadersToAdd: req.add,
        requestHeadersToRemove: req.remove,
        responseHeadersToAdd: resp.add,
        responseHeadersToRemove: resp.remove,
      });
    });
    action.clusterSpecifier = { case: 'weightedClusters', value: create(WeightedClusterSchema, { clusters }) };
  }
  applyTimeout(action, parseDuration(r.timeout, `${field}.timeout`), ctx.grpc);
  const retry = retryPolicy(r.retries, `${field}.retries`);
  if (retry !== undefined) action.retryPolicy = retry;
  action.requestMirrorPolicies = mirrorPolicies(r, ctx);
  setRewrite(action, r, match, ctx.gatewaySemantics === true);
  // The Gateway API: a backend that does not exist is a 500 for its share of requests.
  if (ctx.gatewaySemantics) action.clusterNotFoundResponseCode = RouteAction_ClusterNotFoundResponseCode.INTERNAL_SERVER_ERROR;
  return action;
}

/** Istio's setTimeout: 0s (disabled) by default; gRPC clients read max_stream_duration instead. */
function applyTimeout(action: RouteAction, timeout: ReturnType<typeof parseDuration>, grpc: boolean): void {
  const t = timeout ?? zeroDuration();
  action.timeout = t;
  action.maxStreamDuration = grpc
    ? create(RouteAction_MaxStreamDurationSchema, { maxStreamDuration: t })
    : create(RouteAction_MaxStreamDurationSchema, { grpcTimeoutHeaderMax: t });
}

/** Istio's mirrorPercent: absent → 100%, explicit 0 → no mirroring. */
function mirrorFraction(p: Percent | undefined) {
  if (p === undefined) return create(RuntimeFractionalPercentSchema, { defaultValue: fractionFromInteger(100) });
  if ((p.value ?? 0) <= 0) return undefined;
  return create(RuntimeFractionalPercentSchema, { defaultValue: fractionFromPercent(p.value!) });
}

function mirrorPolicies(r: HTTPRoute, ctx: RouteContext): RouteAction_RequestMirrorPolicy[] {
  const wanted: { destination: Destination; percentage?: Percent | undefined }[] = [];
  if (r.mirror !== undefined) wanted.push({ destination: r.mirror, percentage: r.mirrorPercentage });
  wanted.push(...(r.mirrors ?? []));
  const out: RouteAction_RequestMirrorPolicy[] = [];
  for (const m of wanted) {
    const runtimeFraction = mirrorFraction(m.percentage);
    if (runtimeFraction === undefined) continue;
    out.push(create(RouteAction_RequestMirrorPolicySchema, { cluster: destinationCluster(m.destination, ctx).cluster, runtimeFraction, traceSampled: false }));
  }
  return out;
}

/**
 * rewrite.uri replaces the matched prefix; for an exact or regex match there
 * is no prefix to replace, so the whole path is rewritten with a regex. With
 * gateway semantics a prefix rewritten to "/" is removed with its separator
 * ("/api/x" → "/x", "/api" → "/"), as istiod does.
 */
function setRewrite(action: RouteAction, r: HTTPRoute, match: HTTPMatchRequest | undefined, gatewaySemantics: boolean): void {
  const rw = r.rewrite;
  if (rw === undefined) return;
  if (rw.uri !== undefined && rw.uri !== '') {
    const uri = match?.uri;
    const prefix = uri?.prefix;
    if (gatewaySemantics && rw.uri === '/' && prefix !== undefined && prefix !== '/') {
      action.regexRewrite = create(RegexMatchAndSubstituteSchema, { pattern: re2(`^${escapeRe2(prefix.replace(/\/$/, ''))}(/?)(.*)`), substitution: '/\\2' });
    } else if (uri?.exact !== undefined) action.regexRewrite = create(RegexMatchAndSubstituteSchema, { pattern: re2(`^${escapeRe2(uri.exact)}$`), substitution: rw.uri });
    else if (uri?.regex !== undefined) action.regexRewrite = create(RegexMatchAndSubstituteSchema, { pattern: re2(`^(?:${uri.regex})$`), substitution: rw.uri });
    else action.prefixRewrite = rw.uri;
  }
  if (rw.uriRegexRewrite?.match !== undefined) {
    action.regexRewrite = create(RegexMatchAndSubstituteSchema, { pattern: re2(rw.uriRegexRewrite.match), substitution: rw.uriRegexRewrite.rewrite ?? '' });
  }
  if (rw.authority !== undefined && rw.authority !== '') action.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: rw.authority };
}
