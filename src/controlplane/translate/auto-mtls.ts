import { create } from '@bufbuild/protobuf';
import type { ClientTLSSettings } from '../../config/objects.js';
import { Cluster_DiscoveryType, Cluster_TransportSocketMatchSchema, type Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { TransportSocketSchema, type TransportSocket } from '../../gen/envoy/config/core/v3/base_pb.js';
import { RawBufferSchema } from '../../gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import type { MeshModel, MeshService, MtlsMode } from '../registry/model.js';
import { typed } from './common.js';
import { istioMutualContext, tlsTransportSocket, upstreamTransportSocket, type UpstreamTlsTarget } from './upstream-tls.js';

/** The endpoint metadata key Envoy matches transport_socket_matches against, and Istio's value for a sidecar. */
export const TransportSocketMatchKey = 'envoy.transport_socket_match';
export const IstioTlsMode = 'istio';
export const RawBufferTransportSocketName = 'envoy.transport_sockets.raw_buffer';

/** Plain text (istiod's xdsfilters.RawBufferTransportSocket): a match without TLS still names its socket. */
export const rawBuffer: TransportSocket = create(TransportSocketSchema, {
  name: RawBufferTransportSocketName,
  configType: { case: 'typedConfig', value: typed(RawBufferSchema, {}) },
});

/**
 * What a client may assume about a service's servers (istiod's
 * BestEffortInferServiceMTLSMode): nothing for an external service; for a
 * passthrough destination (headless, or a PASSTHROUGH load balancer) DISABLE
 * unless every endpoint has a sidecar; otherwise the mode of the service
 * namespace's or the mesh's PeerAuthentication, PERMISSIVE without one.
 * Workload-level policies are not consulted, as in istiod.
 */
export function serviceMtlsMode(model: MeshModel, svc: MeshService, port: number, lbSimple: string | undefined): MtlsMode | undefined {
  if (svc.meshExternal) return undefined;
  if (svc.resolution === 'NONE' || lbSimple === 'PASSTHROUGH') {
    const eps = model.endpoints(svc.hostname, port);
    if (eps.length === 0 || eps.some((e) => (e.tlsMode ?? 'disabled') === 'disabled')) return 'DISABLE';
  }
  return model.namespaceMtlsMode(svc.namespace) ?? 'PERMISSIVE';
}

/** Auto mTLS's pair: Istio mTLS to endpoints labelled tlsMode "istio", plaintext to the rest. */
function autoMtlsMatches(mtls: TransportSocket) {
  return [
    create(Cluster_TransportSocketMatchSchema, { name: `tlsMode-${IstioTlsMode}`, match: { tlsMode: IstioTlsMode }, transportSocket: mtls }),
    create(Cluster_TransportSocketMatchSchema, { name: 'tlsMode-disabled', match: {}, transportSocket: rawBuffer }),
  ];
}

export interface AutoMtls {
  /** Istio's meshConfig.enableAutoMtls. */
  enabled: boolean;
  /** serviceMtlsMode of the destination. */
  mode: MtlsMode | undefined;
}

/**
 * An outbound cluster's upstream TLS (istiod's buildUpstreamTLSSettings and
 * applyUpstreamTLSSettings): the DestinationRule's tls when it sets one;
 * (any tls block, even one without a mode); otherwise, with auto mTLS on and a destination that may speak mTLS,
 * ISTIO_MUTUAL per endpoint through transport_socket_matches — except on
 * ORIGINAL_DST clusters, which have no endpoint metadata to match and keep a
 * plain ISTIO_MUTUAL transport socket (serviceMtlsMode already required
 * every endpoint to have a sidecar). Proxyless gRPC only follows the rule.
 */
export function applyUpstreamTls(c: Cluster, tls: ClientTLSSettings | undefined, target: UpstreamTlsTarget, auto: AutoMtls): void {
  // A tls block without a mode is DISABLE (the proto's zero value): user-chosen plaintext, no auto mTLS.
  if (tls || target.generator === 'grpc') {
    c.transportSocket = upstreamTransportSocket(tls, target);
    return;
  }
  if (!auto.enabled || auto.mode === undefined || auto.mode === 'DISABLE') return;
  const mtls = tlsTransportSocket(istioMutualContext(undefined, target));
  const originalDst = c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.ORIGINAL_DST;
  if (originalDst) c.transportSocket = mtls;
  else c.transportSocketMatches = autoMtlsMatches(mtls);
}
