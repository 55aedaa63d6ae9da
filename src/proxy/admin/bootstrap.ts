/**
 * The proxy's bootstrap as Envoy's /config_dump shows it (BootstrapConfigDump):
 * trellis proxy has no bootstrap file, its command line plays that part, so
 * this is the bootstrap an Envoy started with the same settings would have —
 * the node it announces, ADS through a static "xds-grpc" cluster (Istio's
 * name for it), the internal listener extension internal listeners need
 * (as Istio's bootstrap has it), and the admin address. `istioctl proxy-config bootstrap`
 * (and `trellis proxy-config bootstrap`) print it.
 */
import { create } from '@bufbuild/protobuf';
import { BootstrapSchema, type Bootstrap } from '../../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { AddressSchema, SocketAddressSchema, type Address } from '../../gen/envoy/config/core/v3/address_pb.js';
import type { Node } from '../../gen/envoy/config/core/v3/base_pb.js';
import { AggregatedConfigSourceSchema, ApiConfigSource_ApiType, ApiVersion, ConfigSourceSchema } from '../../gen/envoy/config/core/v3/config_source_pb.js';
import { GrpcServiceSchema } from '../../gen/envoy/config/core/v3/grpc_service_pb.js';
import { isIP } from 'node:net';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { InternalListenerSchema } from '../../gen/envoy/extensions/bootstrap/internal_listener/v3/internal_listener_pb.js';

export interface BootstrapInputs {
  node: Node;
  /** HOST:PORT of the ADS server. */
  xdsAddress: string;
  protocol: 'delta' | 'sotw';
  adminAddress: string;
  adminPort: number;
}

const XdsCluster = 'xds-grpc';

function socket(address: string, port: number): Address {
  return create(AddressSchema, { address: { case: 'socketAddress', value: create(SocketAddressSchema, { address, portSpecifier: { case: 'portValue', value: port } }) } });
}

function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i).replace(/^\[(.*)\]$/, '$1'), Number(hostPort.slice(i + 1))];
}

export function bootstrapOf(b: BootstrapInputs): Bootstrap {
  const [host, port] = splitHostPort(b.xdsAddress);
  const ads = create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema, {}) }, resourceApiVersion: ApiVersion.V3 });
  return create(BootstrapSchema, {
    node: b.node,
    staticResources: {
      clusters: [create(ClusterSchema, {
        name: XdsCluster,
        clusterDiscoveryType: { case: 'type', value: isIP(host) ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.STRICT_DNS },
        loadAssignment: { clusterName: XdsCluster, endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: socket(host, port) } } }] }] },
      })],
    },
    dynamicResources: {
      ldsConfig: ads,
      cdsConfig: ads,
      adsConfig: {
        apiType: b.protocol === 'delta' ? ApiConfigSource_ApiType.DELTA_GRPC : ApiConfigSource_ApiType.GRPC,
        transportApiVersion: ApiVersion.V3,
        grpcServices: [create(GrpcServiceSchema, { targetSpecifier: { case: 'envoyGrpc', value: { clusterName: XdsCluster } } })],
      },
    },
    admin: { address: socket(b.adminAddress, b.adminPort) },
    bootstrapExtensions: [{ name: 'envoy.bootstrap.internal_listener', typedConfig: anyPack(InternalListenerSchema, create(InternalListenerSchema, {})) }],
  });
}
