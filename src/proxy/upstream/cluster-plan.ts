/** Validates a CDS Cluster / EDS ClusterLoadAssignment and compiles it into what the proxy runs. */
import type { TlsPlan } from '../tls/tls-plan.js';
import { Cluster_DiscoveryType as Type, Cluster_LbPolicy as Lb, type Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { HealthStatus } from '../../gen/envoy/config/core/v3/health_check_pb.js';
import type { Address } from '../../gen/envoy/config/core/v3/address_pb.js';
import { durationMs } from '../util.js';
import { compileOutlier, type OutlierPlan } from './outlier.js';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { HttpProtocolOptionsSchema } from '../../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type { JsonObject } from '@bufbuild/protobuf';
import { compileSocketMatches, socketMatchMetadata, type SocketMatch } from './socket-match.js';
import { compileDns, type DnsPlan } from './dns/dns-plan.js';
import { compileKeepalive, type KeepalivePlan } from './keepalive.js';
import { compileUpstreamTransport, internalAddress, type InternalUpstreamPlan } from '../internal/internal-upstream.js';
import { compileOriginalDstLb, type OriginalDstLb } from './original-dst-lb.js';

export type LbKind = 'round_robin' | 'least_request' | 'random' | 'ring_hash';

export interface Thresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}

export interface ClusterPlan {
  name: string;
  type: 'STATIC' | 'EDS' | 'ORIGINAL_DST' | 'STRICT_DNS' | 'LOGICAL_DNS';
  /** EDS resource name (service_name, or the cluster name). */
  edsName: string | undefined;
  /** STRICT_DNS / LOGICAL_DNS: the names to resolve and how. */
  dns: DnsPlan | undefined;
  lb: LbKind;
  connectTimeoutMs: number;
  thresholds: Thresholds;
  staticEndpoints: EndpointSpec[];
  /** Upstream HTTP protocol: Envoy's HttpProtocolOptions (explicit or downstream's). */
  upstreamHttp: 'http1' | 'http2' | 'downstream';
  /** upstream_bind_config source address (Istio binds inbound connections to 127.0.0.6). */
  sourceAddress: string | undefined;
  outlier: OutlierPlan | undefined;
  /** Below this percentage of healthy endpoints the balancer uses all of them (Envoy's panic mode). */
  panicThresholdPercent: number;
  /** common_lb_config.locality_weighted_lb_config: within a priority, a locality is chosen by weight × health first. */
  localityWeighted: boolean;
  /** Upstream TLS (UpstreamTlsContext); undefined = plaintext. The default when no socket match applies. */
  tls: TlsPlan | undefined;
  /** The cluster's transport socket is internal_upstream (endpoints are internal listeners). */
  internal: InternalUpstreamPlan | undefined;
  /** The cluster's filter_metadata (internal_upstream passes namespaces of it through). */
  metadata: Record<string, JsonObject>;
  /** ORIGINAL_DST: original_dst_lb_config (port override, HTTP header, metadata key). */
  originalDstLb: OriginalDstLb | undefined;
  /** transport_socket_matches: per-endpoint transport sockets chosen by endpoint metadata (auto-mTLS). */
  socketMatches: SocketMatch[];
  /** upstream_connection_options.tcp_keepalive, on every upstream connection. */
  keepalive: KeepalivePlan | undefined;
  /** Istio's filter_metadata.istio.services hosts: the destination_service of requests on an inbound cluster. */
  istioServices: string[];
}

export interface EndpointSpec {
  address: string;
  port: number;
  weight: number;
  healthy: boolean;
  /** filter_metadata["envoy.transport_socket_match"] of the endpoint and of its locality. */
  socketMatch?: JsonObject | undefined;
  localitySocketMatch?: JsonObject | undefined;
  /** Its LocalityLbEndpoints' priority (0 = highest) and index among the assignment's localities. */
  priority?: number;
  locality?: number;
  /** Its LocalityLbEndpoints' load_balancing_weight (unset: 0 under locality weighting, as in Envoy). */
  localityWeight?: number | undefined;
  /** An envoy_internal_address endpoint: the internal listener it names (address is then "envoy://LISTENER/ID"). */
  internal?: { listener: string; endpointId: string } | undefined;
  /** The endpoint's filter_metadata (internal_upstream passes namespaces of it through). */
  metadata?: Record<string, JsonObject> | undefined;
}

export interface EndpointsPlan {
  clusterName: string;
  endpoints: EndpointSpec[];
  /** policy.overprovisioning_factor in percent (Envoy's default 140). */
  overprovisioningFactor: number;
}

/** Envoy's default overprovisioning factor, in percent. */
export const DefaultOverprovisioningFactor = 140;

/** Envoy's defaults for the DEFAULT priority. */
const DEFAULT_THRESHOLDS: Thresholds = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

export type PlanResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export function compileCluster(c: Cluster): PlanResult<ClusterPlan> {
  const errors: string[] = [];
  if (!c.name) errors.push('name: missing');
  const type = clusterType(c, errors);
  const t = c.circuitBreakers?.thresholds.find((x) => x.priority === 0);
  const thresholds: Thresholds = {
    maxConnections: t?.maxConnections ?? DEFAULT_THRESHOLDS.maxConnections,
    maxPendingRequests: t?.maxPendingRequests ?? DEFAULT_THRESHOLDS.maxPendingRequests,
    maxRequests: t?.maxRequests ?? DEFAULT_THRESHOLDS.maxRequests,
    maxRetries: t?.maxRetries ?? DEFAULT_THRESHOLDS.maxRetries,
  };
  // A STATIC cluster without load_assignment is legal: it has no hosts (Istio's BlackHoleCluster).
  const assigned = (type === 'STATIC' || isDns(type)) && c.loadAssignment ? endpointsOf(c.loadAssignment, 'loadAssignment', errors) : [];
  const staticEndpoints = type === 'STATIC' ? assigned : [];
  const dns = isDns(type) ? compileDns(c, type === 'LOGICAL_DNS', assigned, errors) : undefined;
  const { tls, internal } = compileUpstreamTransport(c.transportSocket, 'transportSocket', errors);
  const originalDstLb = compileOriginalDstLb(c, type === 'ORIGINAL_DST', errors);
  const socketMatches = compileSocketMatches(c, errors);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      name: c.name,
      type: type!,
      edsName: type === 'EDS' ? c.edsClusterConfig?.serviceName || c.name : undefined,
      dns,
      lb: lbKind(c.lbPolicy),
      connectTimeoutMs: durationMs(c.connectTimeout) ?? 5000,
      thresholds,
      staticEndpoints,
      upstreamHttp: upstreamHttp(c, errors),
      sourceAddress: c.upstreamBindConfig?.sourceAddress?.address || undefined,
      outlier: compileOutlier(c.outlierDetection),
      panicThresholdPercent: c.commonLbConfig?.healthyPanicThreshold?.value ?? 50,
      localityWeighted: c.commonLbConfig?.localityConfigSpecifier.case === 'localityWeightedLbConfig',
      tls,
      internal,
      metadata: { ...c.metadata?.filterMetadata },
      originalDstLb,
      socketMatches,
      istioServices: istioServices(c),
      keepalive: compileKeepalive(c),
    },
  };
}

/** Hosts in filter_metadata.istio.services (a Struct; anything not shaped like Istio's is ignored). */
function istioServices(c: Cluster): string[] {
  const services = (c.metadata?.filterMetadata?.istio as { services?: unknown } | undefined)?.services;
  if (!Array.isArray(services)) return [];
  return services.flatMap((x) => (x && typeof x === 'object' && typeof (x as { host?: unknown }).host === 'string' ? [(x as { host: string }).host] : []));
}

function clusterType(c: Cluster, errors: string[]): ClusterPlan['type'] | undefined {
  const d = c.clusterDiscoveryType;
  if (d.case === 'clusterType') {
    errors.push(`clusterDiscoveryType.clusterType: unknown cluster type ${JSON.stringify(d.value.name)}`);
    return undefined;
  }
  const t = d.case === 'type' ? d.value : Type.STATIC;
  switch (t) {
    case Type.STATIC: return 'STATIC';
    case Type.EDS: return 'EDS';
    case Type.ORIGINAL_DST: return 'ORIGINAL_DST';
    case Type.STRICT_DNS: return 'STRICT_DNS';
    case Type.LOGICAL_DNS: return 'LOGICAL_DNS';
    default:
      errors.push(`type: unknown cluster type ${Type[t] ?? t} (supported: STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST)`);
      return undefined;
  }
}

const isDns = (t: ClusterPlan['type'] | undefined) => t === 'STRICT_DNS' || t === 'LOGICAL_DNS';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function upstreamHttp(c: Cluster, errors: string[]): ClusterPlan['upstreamHttp'] {
  const any = c.typedExtensionProtocolOptions[HTTP_OPTIONS];
  if (any) {
    let o;
    try {
      o = anyUnpack(any, HttpProtocolOptionsSchema);
    } catch (err) {
      errors.push(`typedExtensionProtocolOptions["${HTTP_OPTIONS}"]: cannot decode: ${(err as Error).message}`);
    }
    const p = o?.upstreamProtocolOptions;
    if (p?.case === 'useDownstreamProtocolConfig') return 'downstream';
    if (p?.case === 'explicitHttpConfig' && p.value.protocolConfig.case === 'http2ProtocolOptions') return 'http2';
    return 'http1';
  }
  return c.http2ProtocolOptions ? 'http2' : 'http1';
}

/** Ring hash and maglev share one consistent-hash balancer (rendezvous hashing: same key, same host). */
function lbKind(p: Lb): LbKind {
  if (p === Lb.LEAST_REQUEST) return 'least_request';
  if (p === Lb.RANDOM) return 'random';
  if (p === Lb.RING_HASH || p === Lb.MAGLEV) return 'ring_hash';
  return 'round_robin';
}

export function compileEndpoints(cla: ClusterLoadAssignment): PlanResult<EndpointsPlan> {
  const errors: string[] = [];
  if (!cla.clusterName) errors.push('clusterName: missing');
  const endpoints = endpointsOf(cla, '', errors);
  const factor = cla.policy?.overprovisioningFactor;
  if (factor === 0) errors.push('policy.overprovisioningFactor: must be at least 1');
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { clusterName: cla.clusterName, endpoints, overprovisioningFactor: factor ?? DefaultOverprovisioningFactor } };
}

function endpointsOf(cla: ClusterLoadAssignment, prefix: string, errors: string[]): EndpointSpec[] {
  const out: EndpointSpec[] = [];
  const pre = prefix ? `${prefix}.` : '';
  cla.endpoints.forEach((loc, i) => {
    loc.lbEndpoints.forEach((e, j) => {
      const path = `${pre}endpoints[${i}].lbEndpoints[${j}]`;
      if (e.hostIdentifier.case !== 'endpoint') {
        errors.push(`${path}.endpoint: missing`);
        return;
      }
      const addr = e.hostIdentifier.value.address;
      const internal = internalAddress(addr);
      const sa = internal ? { address: `envoy://${internal.listener}/${internal.endpointId}`, port: 0 } : socketAddress(addr, `${path}.endpoint.address`, errors);
      if (!sa) return;
      const hs = e.healthStatus;
      if (e.loadBalancingWeight === 0) {
        errors.push(`${path}.loadBalancingWeight: must be at least 1`);
        return;
      }
      out.push({
        ...sa, weight: e.loadBalancingWeight ?? 1, healthy: hs === HealthStatus.UNKNOWN || hs === HealthStatus.HEALTHY,
        socketMatch: socketMatchMetadata(e.metadata), localitySocketMatch: socketMatchMetadata(loc.metadata),
        priority: loc.priority, locality: i, localityWeight: loc.loadBalancingWeight,
        ...(internal ? { internal, metadata: { ...e.metadata?.filterMetadata } } : {}),
      });
    });
  });
  return out;
}

/** Every TLS context a cluster may use: its own and its socket matches' (their SDS secrets are subscribed). */
export function clusterTlsPlans(p: ClusterPlan): TlsPlan[] {
  return [p.tls, ...p.socketMatches.map((m) => m.tls)].filter((t): t is TlsPlan => t !== undefined);
}

/** host:port of a SocketAddress; errors with the field path. */
export function socketAddress(a: Address | undefined, path: string, errors: string[]): { address: string; port: number } | undefined {
  if (a?.address.case !== 'socketAddress') {
    errors.push(`${path}.socketAddress: missing`);
    return undefined;
  }
  const s = a.address.value;
  if (!s.address) errors.push(`${path}.socketAddress.address: missing`);
  if (s.portSpecifier.case !== 'portValue') {
    errors.push(`${path}.socketAddress.portValue: missing`);
    return undefined;
  }
  return { address: s.address, port: s.portSpecifier.value };
}
