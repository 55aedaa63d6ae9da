/**
 * Envoy's internal listeners as istiod uses them for HBONE: an address that
 * names a listener of the same proxy, the internal_upstream transport socket
 * that carries the endpoint's metadata across, and the endpoint shape that
 * makes a connection go out through connect_originate (util.BuildInternalLbEndpoint,
 * BuildTunnelMetadataStruct).
 */
import { create } from '@bufbuild/protobuf';
import { AddressSchema, EnvoyInternalAddressSchema, type Address } from '../../../gen/envoy/config/core/v3/address_pb.js';
import { MetadataSchema, TransportSocketSchema, type Metadata, type TransportSocket } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { InternalUpstreamTransportSchema, InternalUpstreamTransport_MetadataValueSourceSchema } from '../../../gen/envoy/extensions/transport_sockets/internal_upstream/v3/internal_upstream_pb.js';
import { RawBufferSchema } from '../../../gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { MetadataKindSchema, MetadataKind_HostSchema } from '../../../gen/envoy/type/metadata/v3/metadata_pb.js';
import { typed } from '../common.js';
import { RawBufferTransportSocketName, TransportSocketMatchKey } from '../auto-mtls.js';
import { ConnectOriginate, OriginalDstMetadataKey, TunnelHttp, TunnelMatchKey } from './names.js';

export const InternalUpstreamTransportSocketName = 'envoy.transport_sockets.internal_upstream';

export function internalAddress(listener: string, endpointId = ''): Address {
  return create(AddressSchema, {
    address: { case: 'envoyInternalAddress', value: create(EnvoyInternalAddressSchema, { addressNameSpecifier: { case: 'serverListenerName', value: listener }, endpointId }) },
  });
}

/**
 * internal_upstream around raw_buffer, passing the endpoint's (host's)
 * metadata under `passthrough` to the internal listener's connection: there the
 * original_dst listener filter reads `envoy.filters.listener.original_dst.local`.
 */
export function internalUpstream(passthrough: readonly string[]): TransportSocket {
  return create(TransportSocketSchema, {
    name: InternalUpstreamTransportSocketName,
    configType: {
      case: 'typedConfig',
      value: typed(InternalUpstreamTransportSchema, {
        passthroughMetadata: passthrough.map((name) => create(InternalUpstreamTransport_MetadataValueSourceSchema, {
          kind: create(MetadataKindSchema, { kind: { case: 'host', value: create(MetadataKind_HostSchema, {}) } }),
          name,
        })),
        transportSocket: create(TransportSocketSchema, { name: RawBufferTransportSocketName, configType: { case: 'typedConfig', value: typed(RawBufferSchema, {}) } }),
      }),
    },
  });
}

/** What a waypoint's and an HBONE sidecar's inbound-vip / outbound clusters pass on: the destination, and istio's own keys. */
export const tunnelPassthrough: readonly string[] = [OriginalDstMetadataKey, 'istio'];

/**
 * An endpoint reached over HBONE: the connect_originate internal listener,
 * the destination "IP:PORT" as its endpoint id (so two destinations are two
 * hosts) and as `envoy.filters.listener.original_dst.local`. `matchTunnel`
 * adds istiod's `envoy.transport_socket_match.tunnel: http` for clusters
 * that choose per endpoint between HBONE and mTLS (a sidecar's; a waypoint's
 * inbound-vip clusters always tunnel).
 */
export function tunnelEndpoint(ip: string, port: number, matchTunnel: boolean): { address: Address; metadata: Metadata } {
  const destination = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  const metadata = create(MetadataSchema, { filterMetadata: { [OriginalDstMetadataKey]: { local: destination } } });
  if (matchTunnel) metadata.filterMetadata[TransportSocketMatchKey] = { [TunnelMatchKey]: TunnelHttp };
  return { address: internalAddress(ConnectOriginate, destination), metadata };
}
