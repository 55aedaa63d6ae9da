import { create } from '@bufbuild/protobuf';
import {
  CertificateProviderPluginInstanceSchema,
  CertificateValidationContextSchema,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContextSchema,
  CommonTlsContext_CertificateProviderInstanceSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  UpstreamTlsContextSchema,
  type UpstreamTlsContext,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { StringMatcherSchema } from '../../gen/envoy/type/matcher/v3/string_pb.js';
import { RootCaSecret, WorkloadCertSecret } from './sds.js';

/** The certificate provider instance a proxyless gRPC bootstrap defines (Istio's agent writes it as "default"). */
const GrpcProviderInstance = 'default';

/**
 * ISTIO_MUTUAL for proxyless gRPC (istiod's grpcgen): gRPC has no SDS, it
 * reads its certificates from a certificate provider named in its bootstrap.
 * Both the current fields and the deprecated ones (older gRPC clients) are
 * set, as istiod sets them; no TLS parameters, which gRPC refuses.
 */
export function grpcIstioMutual(serviceAccounts: readonly string[]): UpstreamTlsContext {
  const provider = (certificateName: string) => ({ instanceName: GrpcProviderInstance, certificateName });
  return create(UpstreamTlsContextSchema, {
    commonTlsContext: create(CommonTlsContextSchema, {
      tlsCertificateProviderInstance: create(CertificateProviderPluginInstanceSchema, provider(WorkloadCertSecret)),
      tlsCertificateCertificateProviderInstance: create(CommonTlsContext_CertificateProviderInstanceSchema, provider(WorkloadCertSecret)),
      validationContextType: {
        case: 'combinedValidationContext',
        value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
          validationContextCertificateProviderInstance: create(CommonTlsContext_CertificateProviderInstanceSchema, provider(RootCaSecret)),
          defaultValidationContext: create(CertificateValidationContextSchema, {
            matchSubjectAltNames: serviceAccounts.map((s) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: s } })),
            caCertificateProviderInstance: create(CertificateProviderPluginInstanceSchema, provider(RootCaSecret)),
          }),
        }),
      },
    }),
  });
}
