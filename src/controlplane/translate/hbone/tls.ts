/**
 * The TLS of HBONE, as istiod writes it for Envoy (buildCommonConnectTLSContext):
 * the workload certificate and the mesh root over SDS, TLS 1.3 only, ALPN h2,
 * and a peer whose URI SAN is a SPIFFE id of the mesh's trust domain.
 */
import { create } from '@bufbuild/protobuf';
import { CertificateValidationContextSchema, SubjectAltNameMatcherSchema, SubjectAltNameMatcher_SanType, TlsParametersSchema, TlsParameters_TlsProtocol } from '../../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContextSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
} from '../../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { StringMatcherSchema } from '../../../gen/envoy/type/matcher/v3/string_pb.js';
import { rootCaSds, workloadCertSds } from '../sds.js';
import { downstreamTransportSocket } from '../inbound-tls.js';
import { tlsTransportSocket } from '../upstream-tls.js';

function connectContext(trustDomain: string): CommonTlsContext {
  return create(CommonTlsContextSchema, {
    tlsParams: create(TlsParametersSchema, { tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3, tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3 }),
    tlsCertificateSdsSecretConfigs: [workloadCertSds()],
    validationContextType: {
      case: 'combinedValidationContext',
      value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
        defaultValidationContext: create(CertificateValidationContextSchema, {
          matchTypedSubjectAltNames: [create(SubjectAltNameMatcherSchema, {
            sanType: SubjectAltNameMatcher_SanType.URI,
            matcher: create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: `spiffe://${trustDomain}/` } }),
          })],
        }),
        validationContextSdsSecretConfig: rootCaSds(),
      }),
    },
    alpnProtocols: ['h2'],
  });
}

/** connect_terminate's server side: a client certificate required. */
export function connectTerminateTls(trustDomain: string) {
  return downstreamTransportSocket(create(DownstreamTlsContextSchema, { commonTlsContext: connectContext(trustDomain), requireClientCertificate: true }));
}

/** connect_originate's client side (no SNI: the peer is an IP address). */
export function connectOriginateTls(trustDomain: string) {
  return tlsTransportSocket(create(UpstreamTlsContextSchema, { commonTlsContext: connectContext(trustDomain) }));
}
