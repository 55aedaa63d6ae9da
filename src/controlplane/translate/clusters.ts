import { create } from '@bufbuild/protobuf';
import type { GeneratorKind, InboundService } from './contracts.js';
import type { DestinationRule, Subset } from '../../config/objects.js';
import {
  ClusterSchema,
  Cluster_DiscoveryType,
  Cluster_DnsLookupFamily,
  Cluster_EdsClusterConfigSchema,
  Cluster_LbPolicy,
  type Cluster,
} from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { BindConfigSchema, SocketAddressSchema } from '../../gen/envoy/config/core/v3/address_pb.js';
import { TypedExtensionConfigSchema } from '../../gen/envoy/config/core/v3/extension_pb.js';
import { CaresDnsResolverConfigSchema } from '../../gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import type { MeshEndpoint, MeshModel, MeshService, MeshServicePort } from '../registry/model.js';
import { isHttp2Protocol, isHttpProtocol } from '../registry/protocol.js';
import { selectorMatches } from '../registry/labels.js';
import { adsConfigSource, durationMs, istioConfigMetadata, istioDuration, typed } from './common.js';
import { effectivePolicy } from './destination-rule.js';
import { applyHttpOptions, applyLoadBalancer, applyOutlierDetection, applyTcpKeepalive, circuitBreakers } from './cluster-policy.js';
import { buildLoadAssignment } from './endpoints.js';
import { applyLocalityWeightedConfig } from './locality/lb-setting.js';
import { istioMtlsSni } from './upstream-tls.js';
import { applyUpstreamTls, serviceMtlsMode, type AutoMtls } from './auto-mtls.js';
import { BlackHoleCluster, InboundPassthroughCluster, PassthroughCluster, inboundClusterName, outboundClusterName } from './names.js';

const DefaultConnectTimeoutMs = 10_000;
const defaultConnectTimeout = durationMs(DefaultConnectTimeoutMs);
/** Inbound traffic is sent to the app from this address, so iptables can tell it from the app's own traffic. */
export const InboundSourceAddress = '127.0.0.6';


/**
 * The address family a proxy's DNS clusters resolve, as istiod picks it from
 * the proxy's IPs: V6_ONLY when all are IPv6, else V4_ONLY (dual-stack
 * proxies get V4_ONLY too, istiod's choice without ISTIO_DUAL_STACK).
 */
export type DnsFamily = 'V4_ONLY' | 'V6_ONLY';

export function dnsFamilyOf(ipAddresses: readonly string[]): DnsFamily {
  return ipAddresses.length > 0 && ipAddresses.every((ip) => ip.includes(':')) ? 'V6_ONLY' : 'V4_ONLY';
}

/** MeshConfig's default dnsRefreshRate, which istiod sets on every DNS cluster. */
const DnsRefreshRateMs = 60_000;
/** istiod's PILOT_DNS_CARES_UDP_MAX_QUERIES default. */
const CaresUdpMaxQueries = 100;

/** What a service's clusters read from the model besides the service and its DestinationRule. */
export interface ClusterContext {
  /** The lookup family of DNS clusters (the proxy's, see dnsFamilyOf). */
  dnsFamily: DnsFamily;
  endpoints(port: number): readonly MeshEndpoint[];
  /** SPIFFE ids of the service's workloads (the SANs of ISTIO_MUTUAL). */
  serviceAccounts: readonly string[];
  /** Auto mTLS towards a port; `lbSimple` is the load balancer of the rule (or subset) istiod checks for PASSTHROUGH. */
  autoMtls(port: number, lbSimple: string | undefined): AutoMtls;
}

export function clusterContext(model: MeshModel, svc: MeshService, dnsFamily: DnsFamily = 'V4_ONLY'): ClusterContext {
  return {
    dnsFamily,
    endpoints: (port) => model.endpoints(svc.hostname, port),
    serviceAccounts: model.serviceAccounts(svc.hostname),
    autoMtls: (port, lbSimple) => ({ enabled: model.enableAutoMtls, mode: serviceMtlsMode(model, svc, port, lbSimple) }),
  };
}

/** How a cluster finds its endpoints: EDS for known endpoints, else what the service's resolution says. */
function discovery(c: Cluster, svc: MeshService, port: number, generator: GeneratorKind, endpoints: readonly MeshEndpoint[], family: DnsFamily): void {
  if (generator === 'envoy' && svc.resolution === 'NONE') {
    c.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST };
    c.lbPolicy = Cluster_LbPolicy.CLUSTER_PROVIDED;
  } else if (generator === 'envoy' && (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN')) {
    // istiod: DNS is every address of every name (STRICT_DNS), DNS_ROUND_ROBIN one address of one name at a time (LOGICAL_DNS).
    const type = svc.resolution === 'DNS' ? Cluster_DiscoveryType.STRICT_DNS : Cluster_DiscoveryType.LOGICAL_DNS;
    c.clusterDiscoveryType = { case: 'type', value: type };
    dnsSettings(c, family);
    c.loadAssignment = buildLoadAssignment(c.name, endpoints.length ? endpoints : [dnsSelf(svc, port)]);
  } else {
    c.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.EDS };
    c.edsClusterConfig = create(Cluster_EdsClusterConfigSchema, { edsConfig: adsConfigSource(), serviceName: c.name });
  }
}

/** What istiod sets on every DNS cluster: the proxy's family, the mesh's refresh rate, TTLs respected, c-ares with its query cap. */
function dnsSettings(c: Cluster, family: DnsFamily): void {
  c.dnsLookupFamily = family === 'V6_ONLY' ? Cluster_DnsLookupFamily.V6_ONLY : Cluster_DnsLookupFamily.V4_ONLY;
  c.dnsRefreshRate = durationMs(DnsRefreshRateMs);
  c.respectDnsTtl = true;
  c.typedDnsResolverConfig = create(TypedExtensionConfigSchema, {
    name: 'envoy.network.dns_resolver.cares',
    typedConfig: typed(CaresDnsResolverConfigSchema, { udpMaxQueries: CaresUdpMaxQueries }),
  });
}

/** A DNS ServiceEntry without endpoints resolves its own host name. */
function dnsSelf(svc: MeshService, port: number): MeshEndpoint {
  return { address: svc.hostname, port, servicePort: port, labels: {}, namespace: svc.namespace, ready: true };
}

/**
 * gRPC's xDS client knows ROUND_ROBIN and RING_HASH only and rejects the
 * whole cluster otherwise: other simple policies become ROUND_ROBIN, MAGLEV
 * becomes RING_HASH (the same hash policy on the route still applies).
 */
function grpcLoadBalancer(c: Cluster): void {
  if (c.lbPolicy === Cluster_LbPolicy.MAGLEV) {
    c.lbPolicy = Cluster_LbPolicy.RING_HASH;
    c.lbConfig = { case: undefined };
  } else if (c.lbPolicy !== Cluster_LbPolicy.RING_HASH) {
    c.lbPolicy = Cluster_LbPolicy.ROUND_ROBIN;
    c.lbConfig = { case: undefined };
  }
}

/** "subsets[1]" for a subset's cluster (explain cites it); the DestinationRule as a whole otherwise. */
function subsetField(dr: DestinationRule, subset: Subset | undefined): { field: string } | undefined {
  const i = subset ? (dr.spec.subsets ?? []).findIndex((s) => s.name === subset.name) : -1;
  return i >= 0 ? { field: `subsets[${i}]` } : undefined;
}

/**
 * One outbound cluster (subset undefined for the default one). The DestinationRule
 * is the one that applies to the proxy's namespace; its policies are merged in
 * Istio's order (destination-rule.ts).
 */
export function outboundCluster(
  svc: MeshService,
  port: MeshServicePort,
  dr: DestinationRule | undefined,
  subset: Subset | undefined,
  generator: GeneratorKind,
  ctx: ClusterContext,
): Cluster {
  const endpoints = ctx.endpoints(port.port);
  const name = outboundClusterName(port.port, subset?.name, svc.hostname);
  const policy = effectivePolicy(dr, port.port, subset?.name);
  const c = create(ClusterSchema, {
    name,
    connectTimeout: istioDuration(policy.connectionPool?.tcp?.connectTimeout) ?? defaultConnectTimeout,
    circuitBreakers: circuitBreakers(policy.connectionPool),
    metadata: dr === undefined ? undefined : istioConfigMetadata('destination-rule', dr.metadata.namespace ?? 'default', dr.metadata.name, subsetField(dr, subset)),
  });
  discovery(c, svc, port.port, generator, subset?.labels ? endpoints.filter((e) => selectorMatches(subset.labels, e.labels)) : endpoints, ctx.dnsFamily);
  // An ORIGINAL_DST cluster has no load balancer of its own to choose.
  // gRPC has no ORIGINAL_DST: PASSTHROUGH is ignored for it, like any policy it cannot run.
  const lb = generator === 'grpc' && policy.loadBalancer?.simple === 'PASSTHROUGH' ? undefined : policy.loadBalancer;
  if (c.lbPolicy !== Cluster_LbPolicy.CLUSTER_PROVIDED) applyLoadBalancer(c, lb);
  if (generator === 'grpc') grpcLoadBalancer(c);
  if (generator === 'envoy') {
    applyHttpOptions(c, policy.connectionPool, isHttp2Protocol(port.protocol), isHttpProtocol(port.protocol));
    // istiod's gRPC generator leaves connection options out (gRPC clients ignore them).
    applyTcpKeepalive(c, policy.connectionPool?.tcp?.tcpKeepalive);
  }
  applyOutlierDetection(c, policy.outlierDetection);
  // After outlier detection: istiod sets locality weighting only for clusters that can fail over.
  if (generator === 'envoy') applyLocalityWeightedConfig(c, policy);
  const h2 = isHttp2Protocol(port.protocol) || (isHttpProtocol(port.protocol) && policy.connectionPool?.http?.h2UpgradePolicy === 'UPGRADE');
  const target = { generator, istioSni: istioMtlsSni(port.port, subset?.name, svc.hostname), hostname: svc.hostname, serviceAccounts: ctx.serviceAccounts, h2 };
  // istiod checks the PASSTHROUGH of the rule's own policy for the default cluster, of the subset's for a subset.
  const lbSimple = subset ? subset.trafficPolicy?.loadBalancer?.simple : dr?.spec.trafficPolicy?.loadBalancer?.simple;
  applyUpstreamTls(c, policy.tls, target, ctx.autoMtls(port.port, lbSimple));
  return c;
}

/** The default cluster and one per DestinationRule subset, for every port of a service. */
export function serviceClusters(svc: MeshService, dr: DestinationRule | undefined, generator: GeneratorKind, ctx: ClusterContext): Cluster[] {
  const out: Cluster[] = [];
  for (const port of svc.ports) {
    if (port.protocol === 'UDP') continue;
    out.push(outboundCluster(svc, port, dr, undefined, generator, ctx));
    for (const s of dr?.spec.subsets ?? []) out.push(outboundCluster(svc, port, dr, s, generator, ctx));
  }
  return out;
}

function originalDst(name: string, bindLocal: boolean): Cluster {
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    connectTimeout: durationMs(DefaultConnectTimeoutMs),
    upstreamBindConfig: bindLocal ? bindTo(InboundSourceAddress) : undefined,
  });
}

function bindTo(address: string) {
  return create(BindConfigSchema, { sourceAddress: create(SocketAddressSchema, { address, portSpecifier: { case: 'portValue', value: 0 } }) });
}

/** Where unmatched outbound traffic goes under ALLOW_ANY: to the original destination. */
export function passthroughCluster(): Cluster {
  return originalDst(PassthroughCluster, false);
}

/** Inbound traffic to a port no service declares: to the original destination, from 127.0.0.6. */
export function inboundPassthroughCluster(): Cluster {
  return originalDst(InboundPassthroughCluster, true);
}

/** Where REGISTRY_ONLY sends unknown destinations: a cluster with no endpoints. */
export function blackHoleCluster(): Cluster {
  return create(ClusterSchema, {
    name: BlackHoleCluster,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: durationMs(DefaultConnectTimeoutMs),
  });
}

/**
 * Istio's inbound cluster (1.10 and later): to the connection's original
 * destination — the pod's own IP and the target port — from 127.0.0.6, so an
 * app listening on its pod IP is reached, and the capture rules let the
 * connection through (their 127.0.0.6 exception). Before 1.10 istiod sent it
 * to 127.0.0.1, which only apps bound to localhost or the wildcard see. The
 * services behind the port are in its metadata (filter_metadata.istio.services,
 * what Istio's telemetry reads for destination_service on the server side).
 */
/**
 * inbound|PORT||: to the original destination from 127.0.0.6 (Istio ≥ 1.10),
 * or, for a Sidecar ingress defaultEndpoint 127.0.0.1:APP_PORT, a STATIC
 * cluster to the app on the pod's loopback (as istiod builds it).
 */
export function inboundCluster(targetPort: number, services: readonly InboundService[] = [], loopbackPort?: number): Cluster {
  const metadata = services.length > 0 ? { filterMetadata: { istio: { services: services.map((x) => ({ host: x.host, name: x.name, namespace: x.namespace })) } } } : undefined;
  const name = inboundClusterName(targetPort);
  if (loopbackPort !== undefined) {
    return create(ClusterSchema, {
      name,
      metadata,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
      lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
      connectTimeout: durationMs(DefaultConnectTimeoutMs),
      loadAssignment: buildLoadAssignment(name, [{ address: '127.0.0.1', port: loopbackPort, servicePort: targetPort, labels: {}, namespace: '', ready: true }]),
    });
  }
  return create(ClusterSchema, {
    name,
    metadata,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    connectTimeout: durationMs(DefaultConnectTimeoutMs),
    upstreamBindConfig: bindTo(InboundSourceAddress),
  });
}
