import { create } from '@bufbuild/protobuf';
import {
  ApiConfigSourceSchema,
  ApiConfigSource_ApiType,
  ApiVersion,
  ConfigSourceSchema,
  type ConfigSource,
} from '../../gen/envoy/config/core/v3/config_source_pb.js';
import { GrpcServiceSchema, GrpcService_EnvoyGrpcSchema } from '../../gen/envoy/config/core/v3/grpc_service_pb.js';
import { SdsSecretConfigSchema, type SdsSecretConfig } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { durationMs } from './common.js';

/** Istio's SDS secret names: the workload certificate and the mesh trust bundle. */
export const WorkloadCertSecret = 'default';
export const RootCaSecret = 'ROOTCA';
/** The bootstrap cluster through which Envoy reaches the local agent's SDS server (istio-agent's UDS). */
export const SdsClusterName = 'sds-grpc';

/**
 * Where a sidecar fetches `default` and `ROOTCA`: not the control plane but
 * the agent next to it, which holds the private key (istiod's
 * pkg/model ConstructSdsSecretConfig). No initial fetch timeout: a listener
 * or cluster waits for its certificate instead of starting without it.
 */
function agentConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, {
    configSourceSpecifier: {
      case: 'apiConfigSource',
      value: create(ApiConfigSourceSchema, {
        apiType: ApiConfigSource_ApiType.GRPC,
        setNodeOnFirstMessageOnly: true,
        transportApiVersion: ApiVersion.V3,
        grpcServices: [create(GrpcServiceSchema, {
          targetSpecifier: { case: 'envoyGrpc', value: create(GrpcService_EnvoyGrpcSchema, { clusterName: SdsClusterName }) },
        })],
      }),
    },
    resourceApiVersion: ApiVersion.V3,
    initialFetchTimeout: durationMs(0),
  });
}

// Shared, never mutated: every mTLS context of every push references these two.
const workloadCert = create(SdsSecretConfigSchema, { name: WorkloadCertSecret, sdsConfig: agentConfigSource() });
const rootCa = create(SdsSecretConfigSchema, { name: RootCaSecret, sdsConfig: agentConfigSource() });

export function workloadCertSds(): SdsSecretConfig {
  return workloadCert;
}

export function rootCaSds(): SdsSecretConfig {
  return rootCa;
}
