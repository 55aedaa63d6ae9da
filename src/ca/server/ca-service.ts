import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  IstioCertificateRequestSchema,
  IstioCertificateResponseSchema,
  type IstioCertificateRequest,
  type IstioCertificateResponse,
} from '../../gen/security/v1alpha1/ca_pb.js';

/** The gRPC method path, as istio-agent and ztunnel call it. */
export const CREATE_CERTIFICATE_PATH = '/istio.v1.auth.IstioCertificateService/CreateCertificate';

/**
 * grpc-js service definition of istio.v1.auth.IstioCertificateService, with
 * protobuf-es doing the (de)serialisation (as src/xds/ads-service.ts does for
 * ADS). Shared by the control plane's server and by any Trellis client.
 */
export const istioCertificateServiceDefinition = {
  CreateCertificate: {
    path: CREATE_CERTIFICATE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: IstioCertificateRequest) => Buffer.from(toBinary(IstioCertificateRequestSchema, m)),
    requestDeserialize: (b: Buffer) => fromBinary(IstioCertificateRequestSchema, b),
    responseSerialize: (m: IstioCertificateResponse) => Buffer.from(toBinary(IstioCertificateResponseSchema, m)),
    responseDeserialize: (b: Buffer) => fromBinary(IstioCertificateResponseSchema, b),
  },
} satisfies ServiceDefinition;
