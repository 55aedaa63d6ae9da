import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import type { ClientTLSSettings } from '../../config/objects.js';
import { DataSourceSchema, TransportSocketSchema, type TransportSocket } from '../../gen/envoy/config/core/v3/base_pb.js';
import {
  CertificateValidationContextSchema,
  TlsCertificateSchema,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SdsSecretConfigSchema } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  CommonTlsContextSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
} from '../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { StringMatcherSchema } from '../../gen/envoy/type/matcher/v3/string_pb.js';
import { adsConfigSource } from './common.js';

/** Istio's SDS secret names: the workload certificate and the mesh root. */
export const WorkloadCertSecret = 'default';
export const RootCaSecret = 'ROOTCA';
export const IstioMtlsAlpn: readonly string[] = ['istio-peer-exchange', 'istio'];
export const TlsTransportSocketName = 'envoy.transport_sockets.tls';

/** Istio's SNI for mTLS between sidecars: outbound_.9080_.v1_.reviews.default.svc.cluster.local (empty for no subset: outbound_.9080_._.host). */
export function istioMtlsSni(port: number, subset: string | undefined, hostname: string): string {
  return `outbound_.${port}_.${subset ?? ''}_.${hostname}`;
}

function sds(name: string) {
  return create(SdsSecretConfigSchema, { name, sdsConfig: adsConfigSource() });
}

function file(path: string) {
  return create(DataSourceSchema, { specifier: { case: 'filename', value: path } });
}

function sanMatchers(sans: readonly string[] | undefined) {
  return (sans ?? []).map((s) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: s } }));
}

function istioMutual(sans: readonly string[] | undefined): CommonTlsContext {
  return create(CommonTlsContextSchema, {
    tlsCertificateSdsSecretConfigs: [sds(WorkloadCertSecret)],
    validationContextType: {
      case: 'combinedValidationContext',
      value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
        defaultValidationContext: create(CertificateValidationContextSchema, { matchSubjectAltNames: sanMatchers(sans) }),
        validationContextSdsSecretConfig: sds(RootCaSecret),
      }),
    },
    alpnProtocols: [...IstioMtlsAlpn],
  });
}

function fromFiles(tls: ClientTLSSettings, mutual: boolean): CommonTlsContext {
  const validation = create(CertificateValidationContextSchema, {
    trustedCa: tls.caCertificates ? file(tls.caCertificates) : undefined,
    matchSubjectAltNames: sanMatchers(tls.subjectAltNames),
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
 * The transport socket for a DestinationRule tls setting; undefined for
 * DISABLE or no setting. `defaultSni` is Istio's outbound_ SNI for
 * ISTIO_MUTUAL; SIMPLE/MUTUAL use tls.sni, else the service hostname.
 */
export function upstreamTransportSocket(tls: ClientTLSSettings | undefined, defaultSni: string, hostname: string): TransportSocket | undefined {
  const mode = tls?.mode;
  if (!tls || !mode || mode === 'DISABLE') return undefined;
  const ctx = mode === 'ISTIO_MUTUAL'
    ? create(UpstreamTlsContextSchema, { commonTlsContext: istioMutual(tls.subjectAltNames), sni: tls.sni ?? defaultSni })
    : create(UpstreamTlsContextSchema, { commonTlsContext: fromFiles(tls, mode === 'MUTUAL'), sni: tls.sni ?? hostname });
  return create(TransportSocketSchema, { name: TlsTransportSocketName, configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, ctx) } });
}
