import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TransportSocketSchema, type TransportSocket } from '../../gen/envoy/config/core/v3/base_pb.js';
import {
  CertificateValidationContextSchema,
  TlsParametersSchema,
  TlsParameters_TlsProtocol,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContextSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  DownstreamTlsContextSchema,
  type DownstreamTlsContext,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { StringMatcherSchema } from '../../gen/envoy/type/matcher/v3/string_pb.js';
import { rootCaSds, workloadCertSds } from './sds.js';
import { TlsTransportSocketName } from './upstream-tls.js';

/** istiod's SupportedCiphers for sidecar servers (meshMTLS.cipherSuites unset). */
export const InboundCipherSuites: readonly string[] = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-GCM-SHA256',
];

/**
 * What an inbound mTLS server offers in ALPN (istiod's BuildInboundTLS):
 * HTTP chains h2 and http/1.1 — never "istio", which only selects the filter
 * chain and must not be negotiated over the application's protocol — and TCP
 * chains also istio-peer-exchange, for the TCP metadata exchange.
 */
export const InboundHttpAlpn: readonly string[] = ['h2', 'http/1.1'];
export const InboundTcpAlpn: readonly string[] = ['istio-peer-exchange', 'h2', 'http/1.1'];

/**
 * The server side of Istio mTLS: the workload certificate and the mesh root
 * from the agent, a client certificate required, and any SPIFFE id of the
 * trust domain accepted (istiod validates the trust domain, not the peer:
 * who may call is AuthorizationPolicy's job).
 */
export function inboundMtlsContext(kind: 'http' | 'tcp', trustDomain: string): DownstreamTlsContext {
  return create(DownstreamTlsContextSchema, {
    commonTlsContext: create(CommonTlsContextSchema, {
      alpnProtocols: [...(kind === 'http' ? InboundHttpAlpn : InboundTcpAlpn)],
      tlsParams: create(TlsParametersSchema, {
        cipherSuites: [...InboundCipherSuites],
        tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_2,
        tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3,
      }),
      tlsCertificateSdsSecretConfigs: [workloadCertSds()],
      validationContextType: {
        case: 'combinedValidationContext',
        value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
          defaultValidationContext: create(CertificateValidationContextSchema, {
            matchSubjectAltNames: [create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: `spiffe://${trustDomain}/` } })],
          }),
          validationContextSdsSecretConfig: rootCaSds(),
        }),
      },
    }),
    requireClientCertificate: true,
  });
}

export function downstreamTransportSocket(ctx: DownstreamTlsContext): TransportSocket {
  return create(TransportSocketSchema, { name: TlsTransportSocketName, configType: { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, ctx) } });
}
