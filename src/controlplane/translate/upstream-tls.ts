import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import type { ClientTLSSettings } from '../../config/objects.js';
import { DataSourceSchema, TransportSocketSchema, type TransportSocket } from '../../gen/envoy/config/core/v3/base_pb.js';
import {
  CertificateValidationContextSchema,
  TlsCertificateSchema,
  TlsParametersSchema,
  TlsParameters_TlsProtocol,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContextSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
  type UpstreamTlsContext,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { StringMatcherSchema } from '../../gen/envoy/type/matcher/v3/string_pb.js';
import type { GeneratorKind } from './contracts.js';
import { grpcIstioMutual } from './grpc-tls.js';
import { rootCaSds, workloadCertSds } from './sds.js';

export { RootCaSecret, WorkloadCertSecret } from './sds.js';
export const TlsTransportSocketName = 'envoy.transport_sockets.tls';

/**
 * ALPN of an in-mesh client (istiod's ALPNInMeshWithMxc / ALPNInMeshH2WithMxc): "istio" is how a
 * PERMISSIVE server tells mesh traffic from an app's own TLS; "h2" when the cluster speaks HTTP/2.
 */
export const IstioMtlsAlpn: readonly string[] = ['istio-peer-exchange', 'istio'];
export const IstioMtlsAlpnH2: readonly string[] = ['istio-peer-exchange', 'istio', 'h2'];

/** Istio's SNI for mTLS between sidecars: outbound_.9080_.v1_.reviews.default.svc.cluster.local (empty for no subset: outbound_.9080_._.host). */
export function istioMtlsSni(port: number, subset: string | undefined, hostname: string): string {
  return `outbound_.${port}_.${subset ?? ''}_.${hostname}`;
}

/** What an upstream TLS context needs to know about its cluster. */
export interface UpstreamTlsTarget {
  generator: GeneratorKind;
  /** Istio's outbound_ SNI, the default for ISTIO_MUTUAL. */
  istioSni: string;
  hostname: string;
  /** The destination's SPIFFE ids: the SANs ISTIO_MUTUAL expects unless the rule lists its own. */
  serviceAccounts: readonly string[];
  /** The cluster speaks HTTP/2 upstream (h2 ports, or h2UpgradePolicy UPGRADE). */
  h2: boolean;
}

function file(path: string) {
  return create(DataSourceSchema, { specifier: { case: 'filename', value: path } });
}

function exactSans(sans: readonly string[] | undefined) {
  return (sans ?? []).map((s) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: s } }));
}

// istiod's defaultUpstreamCommonTLSContext: Envoy's client default maximum is TLS 1.2.
const upstreamTlsParams = create(TlsParametersSchema, {
  tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_2,
  tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3,
});

function istioMutual(sans: readonly string[], h2: boolean): CommonTlsContext {
  return create(CommonTlsContextSchema, {
    tlsParams: upstreamTlsParams,
    tlsCertificateSdsSecretConfigs: [workloadCertSds()],
    validationContextType: {
      case: 'combinedValidationContext',
      value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
        defaultValidationContext: create(CertificateValidationContextSchema, { matchSubjectAltNames: exactSans(sans) }),
        validationContextSdsSecretConfig: rootCaSds(),
      }),
    },
    alpnProtocols: [...(h2 ? IstioMtlsAlpnH2 : IstioMtlsAlpn)],
  });
}

function fromFiles(tls: ClientTLSSettings, mutual: boolean): CommonTlsContext {
  const validation = create(CertificateValidationContextSchema, {
    trustedCa: tls.caCertificates ? file(tls.caCertificates) : undefined,
    matchSubjectAltNames: exactSans(tls.subjectAltNames),
  });
  const certs = mutual && tls.clientCertificate && tls.privateKey
    ? [create(TlsCertificateSchema, { certificateChain: file(tls.clientCertificate), privateKey: file(tls.privateKey) })]
    : [];
  return create(CommonTlsContextSchema, {
    tlsCertificates: certs,
    validationContextType: tls.insecureSkipVerify ? { case: undefined } : { case: 'validationContext', value: validation },
  });
}

/**
 * ISTIO_MUTUAL for a sidecar: the SNI and SANs the rule sets, else Istio's
 * outbound_ SNI and the destination's service accounts (istiod's
 * buildUpstreamTLSSettings).
 */
export function istioMutualContext(tls: ClientTLSSettings | undefined, t: UpstreamTlsTarget): UpstreamTlsContext {
  const sans = tls?.subjectAltNames?.length ? tls.subjectAltNames : t.serviceAccounts;
  return create(UpstreamTlsContextSchema, { commonTlsContext: istioMutual(sans, t.h2), sni: tls?.sni || t.istioSni });
}

export function tlsTransportSocket(ctx: UpstreamTlsContext): TransportSocket {
  return create(TransportSocketSchema, { name: TlsTransportSocketName, configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, ctx) } });
}

/**
 * The transport socket for a DestinationRule tls setting; undefined for
 * DISABLE or no setting (auto mTLS is decided by auto-mtls.ts). SIMPLE and
 * MUTUAL read files, with tls.sni or the service hostname. Proxyless gRPC
 * gets ISTIO_MUTUAL only, in its certificate-provider shape, as istiod sends it.
 */
export function upstreamTransportSocket(tls: ClientTLSSettings | undefined, t: UpstreamTlsTarget): TransportSocket | undefined {
  const mode = tls?.mode;
  if (!tls || !mode || mode === 'DISABLE') return undefined;
  if (t.generator === 'grpc') return mode === 'ISTIO_MUTUAL' ? tlsTransportSocket(grpcIstioMutual(t.serviceAccounts)) : undefined;
  const ctx = mode === 'ISTIO_MUTUAL'
    ? istioMutualContext(tls, t)
    : create(UpstreamTlsContextSchema, { commonTlsContext: fromFiles(tls, mode === 'MUTUAL'), sni: tls.sni ?? t.hostname });
  return tlsTransportSocket(ctx);
}
