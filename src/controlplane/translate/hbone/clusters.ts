/**
 * The HBONE clusters istiod writes for Envoy (cluster_waypoint.go):
 * main_internal (to the main_internal listener: what connect_terminate
 * decapsulated) and connect_originate (ORIGINAL_DST to the destination's
 * IP on 15008, HTTP/2 with CONNECT, HBONE's TLS and window sizes).
 */
import { create } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy, Cluster_OriginalDstLbConfigSchema, type Cluster } from '../../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpProtocolOptionsSchema as CoreHttpOptionsSchema, Http2ProtocolOptionsSchema } from '../../../gen/envoy/config/core/v3/protocol_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { EndpointSchema, LbEndpointSchema, LocalityLbEndpointsSchema } from '../../../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { HttpProtocolOptionsSchema, HttpProtocolOptions_ExplicitHttpConfigSchema } from '../../../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { HttpProtocolOptionsKey } from '../cluster-policy.js';
import { durationMs, typed } from '../common.js';
import { internalAddress, internalUpstream } from './internal.js';
import { ConnectOriginate, HbonePort, MainInternal, OriginalDstMetadataKey } from './names.js';
import { MetadataKeySchema, MetadataKey_PathSegmentSchema } from '../../../gen/envoy/type/metadata/v3/metadata_pb.js';
import { connectOriginateTls } from './tls.js';

/** ztunnel's HBONE windows, which istiod gives Envoy too (HBONE_INITIAL_STREAM/CONNECTION_WINDOW_SIZE). */
export const HboneStreamWindow = 4 * 1024 * 1024;
export const HboneConnectionWindow = 16 * 1024 * 1024;
/** istiod's default HBONE pool idle timeout (meshConfig hboneIdleTimeout unset). */
const HboneIdleTimeoutMs = 3_600_000;

/** main_internal: one static endpoint, the internal listener of that name. */
export function mainInternalCluster(): Cluster {
  return create(ClusterSchema, {
    name: MainInternal,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    loadAssignment: create(ClusterLoadAssignmentSchema, {
      clusterName: MainInternal,
      endpoints: [create(LocalityLbEndpointsSchema, { lbEndpoints: [create(LbEndpointSchema, { hostIdentifier: { case: 'endpoint', value: create(EndpointSchema, { address: internalAddress(MainInternal) }) } })] })],
    }),
    transportSocket: internalUpstream([]),
  });
}

/** connect_originate: to the restored destination address, its port replaced by 15008. */
export function connectOriginateCluster(trustDomain: string): Cluster {
  const options = create(HttpProtocolOptionsSchema, {
    commonHttpProtocolOptions: create(CoreHttpOptionsSchema, { idleTimeout: durationMs(HboneIdleTimeoutMs) }),
    upstreamProtocolOptions: {
      case: 'explicitHttpConfig',
      value: create(HttpProtocolOptions_ExplicitHttpConfigSchema, {
        protocolConfig: {
          case: 'http2ProtocolOptions',
          value: create(Http2ProtocolOptionsSchema, { allowConnect: true, initialStreamWindowSize: HboneStreamWindow, initialConnectionWindowSize: HboneConnectionWindow }),
        },
      }),
    },
  });
  return create(ClusterSchema, {
    name: ConnectOriginate,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
    lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
    connectTimeout: durationMs(10_000),
    cleanupInterval: durationMs(60_000),
    lbConfig: {
      case: 'originalDstLbConfig',
      value: create(Cluster_OriginalDstLbConfigSchema, {
        upstreamPortOverride: HbonePort,
        // istiod's: a request or connection whose metadata names a waypoint ("IP:PORT") is sent there instead.
        metadataKey: create(MetadataKeySchema, { key: OriginalDstMetadataKey, path: [create(MetadataKey_PathSegmentSchema, { segment: { case: 'key', value: 'waypoint' } })] }),
      }),
    },
    typedExtensionProtocolOptions: { [HttpProtocolOptionsKey]: typed(HttpProtocolOptionsSchema, options) },
    transportSocket: connectOriginateTls(trustDomain),
  });
}
