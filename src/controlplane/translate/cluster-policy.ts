import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import type { ConnectionPoolSettings, LoadBalancerSettings, OutlierDetection as IstioOutlier } from '../../config/objects.js';
import { CircuitBreakersSchema, CircuitBreakers_ThresholdsSchema, type CircuitBreakers } from '../../gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import {
  Cluster_CommonLbConfigSchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  Cluster_MaglevLbConfigSchema,
  Cluster_RingHashLbConfigSchema,
  UpstreamConnectionOptionsSchema,
  type Cluster,
} from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { TcpKeepaliveSchema } from '../../gen/envoy/config/core/v3/address_pb.js';
import { OutlierDetectionSchema, type OutlierDetection } from '../../gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { Http1ProtocolOptionsSchema, Http2ProtocolOptionsSchema, HttpProtocolOptionsSchema as CoreHttpOptionsSchema } from '../../gen/envoy/config/core/v3/protocol_pb.js';
import { HttpProtocolOptionsSchema, HttpProtocolOptions_ExplicitHttpConfigSchema } from '../../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { PercentSchema } from '../../gen/envoy/type/v3/percent_pb.js';
import { istioDuration } from './common.js';

/** The typed_extension_protocol_options key Envoy reads upstream HTTP options from. */
export const HttpProtocolOptionsKey = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

const MaxU32 = 0xffffffff;
/** Istio's default ring size when consistentHash sets none. */
const DefaultRingSize = 1024n;

/** Load balancer: simple policies, consistent hashing (RING_HASH / MAGLEV), PASSTHROUGH (ORIGINAL_DST). */
export function applyLoadBalancer(c: Cluster, lb: LoadBalancerSettings | undefined): void {
  if (!lb) return;
  const ch = lb.consistentHash;
  if (ch) {
    if (ch.maglev) {
      c.lbPolicy = Cluster_LbPolicy.MAGLEV;
      c.lbConfig = { case: 'maglevLbConfig', value: create(Cluster_MaglevLbConfigSchema, { tableSize: ch.maglev.tableSize ? BigInt(ch.maglev.tableSize) : undefined }) };
    } else {
      c.lbPolicy = Cluster_LbPolicy.RING_HASH;
      const size = ch.ringHash?.minimumRingSize ?? ch.minimumRingSize;
      c.lbConfig = { case: 'ringHashLbConfig', value: create(Cluster_RingHashLbConfigSchema, { minimumRingSize: size ? BigInt(size) : DefaultRingSize }) };
    }
    return;
  }
  switch (lb.simple) {
    case 'LEAST_CONN':
    case 'LEAST_REQUEST': c.lbPolicy = Cluster_LbPolicy.LEAST_REQUEST; break;
    case 'RANDOM': c.lbPolicy = Cluster_LbPolicy.RANDOM; break;
    case 'PASSTHROUGH':
      c.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST };
      c.lbPolicy = Cluster_LbPolicy.CLUSTER_PROVIDED;
      c.edsClusterConfig = undefined;
      break;
    default: c.lbPolicy = Cluster_LbPolicy.ROUND_ROBIN;
  }
}

/** Istio puts "unlimited" thresholds on every outbound cluster; connectionPool lowers them. */
export function circuitBreakers(pool: ConnectionPoolSettings | undefined): CircuitBreakers {
  if (!pool) return (defaultBreakers ??= makeBreakers(undefined));
  return makeBreakers(pool);
}

let defaultBreakers: CircuitBreakers | undefined;

function makeBreakers(pool: ConnectionPoolSettings | undefined): CircuitBreakers {
  const t = create(CircuitBreakers_ThresholdsSchema, {
    maxConnections: pool?.tcp?.maxConnections ?? MaxU32,
    maxPendingRequests: pool?.http?.http1MaxPendingRequests ?? MaxU32,
    maxRequests: pool?.http?.http2MaxRequests ?? MaxU32,
    maxRetries: pool?.http?.maxRetries ?? MaxU32,
    trackRemaining: true,
  });
  return create(CircuitBreakersSchema, { thresholds: [t] });
}

/**
 * Upstream HTTP options: h2 for HTTP2/GRPC ports (or h2UpgradePolicy UPGRADE
 * on HTTP ports), idle timeout and requests per connection from connectionPool.
 * Nothing is set when there is nothing to say.
 */
export function applyHttpOptions(c: Cluster, pool: ConnectionPoolSettings | undefined, h2: boolean, http: boolean): void {
  if (pool?.http === undefined) {
    // The common case (every HTTP/2 port without connectionPool.http): one shared, never-mutated Any.
    if (h2) c.typedExtensionProtocolOptions[HttpProtocolOptionsKey] = (plainH2Options ??= httpOptions(undefined, true, false)!);
    return;
  }
  const opts = httpOptions(pool, h2, http);
  if (opts !== undefined) c.typedExtensionProtocolOptions[HttpProtocolOptionsKey] = opts;
}

let plainH2Options: Any | undefined;

function httpOptions(pool: ConnectionPoolSettings | undefined, h2: boolean, http: boolean): Any | undefined {
  const upgrade = http && pool?.http?.h2UpgradePolicy === 'UPGRADE';
  const idle = istioDuration(pool?.http?.idleTimeout);
  const perConn = pool?.http?.maxRequestsPerConnection;
  if (!h2 && !upgrade && !idle && !perConn) return undefined;
  const common = idle || perConn ? create(CoreHttpOptionsSchema, { idleTimeout: idle, maxRequestsPerConnection: perConn || undefined }) : undefined;
  const opts = create(HttpProtocolOptionsSchema, {
    commonHttpProtocolOptions: common,
    upstreamProtocolOptions: {
      case: 'explicitHttpConfig',
      value: create(HttpProtocolOptions_ExplicitHttpConfigSchema, {
        protocolConfig: h2 || upgrade
          ? { case: 'http2ProtocolOptions', value: create(Http2ProtocolOptionsSchema, { maxConcurrentStreams: pool?.http?.maxConcurrentStreams }) }
          : { case: 'httpProtocolOptions', value: create(Http1ProtocolOptionsSchema, {}) },
      }),
    },
  });
  return anyPack(HttpProtocolOptionsSchema, opts);
}

/**
 * istiod's setKeepAliveSettings: an empty tcp_keepalive turns SO_KEEPALIVE on
 * with the system's timers; time and interval in whole seconds, probes only
 * when positive. (istiod applies MeshConfig.tcpKeepalive first; Trellis has
 * no mesh config, so the DestinationRule's is the only one.)
 */
export function applyTcpKeepalive(c: Cluster, ka: NonNullable<ConnectionPoolSettings['tcp']>['tcpKeepalive']): void {
  if (!ka) return;
  const out = create(TcpKeepaliveSchema, {});
  if (ka.probes !== undefined && ka.probes > 0) out.keepaliveProbes = ka.probes;
  const time = istioDuration(ka.time);
  if (time) out.keepaliveTime = Number(time.seconds);
  const interval = istioDuration(ka.interval);
  if (interval) out.keepaliveInterval = Number(interval.seconds);
  c.upstreamConnectionOptions = create(UpstreamConnectionOptionsSchema, { tcpKeepalive: out });
}

/**
 * istiod's outlier detection mapping: success-rate ejection off (Envoy
 * enables it by default), each consecutive-error kind enforced at 100 % when
 * its count is positive, maxEjectionPercent only when positive, and
 * minHealthPercent as the panic threshold. The deprecated consecutiveErrors
 * is not read, as istiod no longer reads it (reported by
 * analyze/unsupported-fields.ts): Envoy's default of 5 applies.
 */
export function applyOutlierDetection(c: Cluster, o: IstioOutlier | undefined): void {
  if (!o) return;
  const out: OutlierDetection = create(OutlierDetectionSchema, {
    interval: istioDuration(o.interval),
    baseEjectionTime: istioDuration(o.baseEjectionTime),
    maxEjectionPercent: o.maxEjectionPercent !== undefined && o.maxEjectionPercent > 0 ? o.maxEjectionPercent : undefined,
    enforcingSuccessRate: 0,
  });
  const c5xx = o.consecutive5xxErrors;
  if (c5xx !== undefined) {
    out.consecutive5xx = c5xx;
    out.enforcingConsecutive5xx = c5xx > 0 ? 100 : 0;
  }
  if (o.consecutiveGatewayErrors !== undefined) {
    out.consecutiveGatewayFailure = o.consecutiveGatewayErrors;
    out.enforcingConsecutiveGatewayFailure = o.consecutiveGatewayErrors > 0 ? 100 : 0;
  }
  if (o.splitExternalLocalOriginErrors) {
    out.splitExternalLocalOriginErrors = true;
    if (o.consecutiveLocalOriginFailures !== undefined && o.consecutiveLocalOriginFailures > 0) {
      out.consecutiveLocalOriginFailure = o.consecutiveLocalOriginFailures;
      out.enforcingConsecutiveLocalOriginFailure = 100;
    }
    out.enforcingLocalOriginSuccessRate = 0;
  }
  c.outlierDetection = out;
  c.commonLbConfig ??= create(Cluster_CommonLbConfigSchema, {});
  c.commonLbConfig.healthyPanicThreshold = create(PercentSchema, { value: o.minHealthPercent ?? 0 });
}
