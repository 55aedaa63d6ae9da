/**
 * A gateway server's TLS termination (SIMPLE, MUTUAL, OPTIONAL_MUTUAL) as a
 * DownstreamTlsContext.
 *
 * - credentialName: as istiod, SDS over ADS — `kubernetes://NAME` for the
 *   certificate and, for (OPTIONAL_)MUTUAL, `kubernetes://NAME-cacert` for
 *   the client CA in a combined validation context; the control plane
 *   serves them from the router's namespace (credential-secrets.ts).
 * - files: istiod hands file paths to the pod's agent as SDS names
 *   ("file-cert:CERT~KEY", "file-root:CA"); Trellis's proxy has no such
 *   agent secrets, so the files are named in the context itself (Envoy's
 *   DataSource filename), which the proxy reads when the listener arrives —
 *   the same files, read by the same process that serves them.
 */
import { create } from '@bufbuild/protobuf';
import { DataSourceSchema } from '../../../gen/envoy/config/core/v3/base_pb.js';
import {
  CertificateValidationContextSchema,
  TlsCertificateSchema,
  TlsParametersSchema,
  TlsParameters_TlsProtocol,
} from '../../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContextSchema,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
  DownstreamTlsContextSchema,
  type DownstreamTlsContext,
} from '../../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SdsSecretConfigSchema } from '../../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { StringMatcherSchema } from '../../../gen/envoy/type/matcher/v3/string_pb.js';
import type { ServerTLSSettings } from '../../../config/objects.js';
import { InboundHttpAlpn } from '../inbound-tls.js';
import { adsConfigSource } from '../common.js';
import { credentialCaName, credentialResourceName, serverCredentialName } from './credential-names.js';

const versions: Record<string, TlsParameters_TlsProtocol> = {
  TLS_AUTO: TlsParameters_TlsProtocol.TLS_AUTO,
  TLSV1_0: TlsParameters_TlsProtocol.TLSv1_0,
  TLSV1_1: TlsParameters_TlsProtocol.TLSv1_1,
  TLSV1_2: TlsParameters_TlsProtocol.TLSv1_2,
  TLSV1_3: TlsParameters_TlsProtocol.TLSv1_3,
};

const file = (filename: string) => create(DataSourceSchema, { specifier: { case: 'filename', value: filename } });

/**
 * `http`: an HTTPS server (ALPN h2 and http/1.1, as istiod offers on HTTPS
 * gateways); a TLS server terminating for TCP routes offers none.
 */
export function serverTlsContext(tls: ServerTLSSettings, http: boolean): DownstreamTlsContext {
  const mutual = tls.mode === 'MUTUAL' || tls.mode === 'OPTIONAL_MUTUAL';
  const credential = serverCredentialName(tls);
  const common = create(CommonTlsContextSchema, {
    alpnProtocols: http ? [...InboundHttpAlpn] : [],
    // istiod's gateway default: TLS 1.2 at least, unless the server says otherwise.
    tlsParams: create(TlsParametersSchema, {
      tlsMinimumProtocolVersion: versions[tls.minProtocolVersion ?? 'TLSV1_2'] ?? TlsParameters_TlsProtocol.TLSv1_2,
      tlsMaximumProtocolVersion: versions[tls.maxProtocolVersion ?? 'TLS_AUTO'] ?? TlsParameters_TlsProtocol.TLS_AUTO,
      cipherSuites: [...(tls.cipherSuites ?? [])],
    }),
  });
  const sans = (tls.subjectAltNames ?? []).map((s) => create(StringMatcherSchema, { matchPattern: { case: 'exact', value: s } }));
  if (credential !== undefined) {
    const sds = (name: string) => create(SdsSecretConfigSchema, { name, sdsConfig: adsConfigSource() });
    common.tlsCertificateSdsSecretConfigs = [sds(credentialResourceName(credential))];
    if (mutual) {
      common.validationContextType = {
        case: 'combinedValidationContext',
        value: create(CommonTlsContext_CombinedCertificateValidationContextSchema, {
          defaultValidationContext: create(CertificateValidationContextSchema, { matchSubjectAltNames: sans }),
          validationContextSdsSecretConfig: sds(credentialCaName(credential)),
        }),
      };
    }
  } else {
    common.tlsCertificates = [create(TlsCertificateSchema, { certificateChain: file(tls.serverCertificate ?? ''), privateKey: file(tls.privateKey ?? '') })];
    if (mutual && tls.caCertificates) {
      common.validationContextType = {
        case: 'validationContext',
        value: create(CertificateValidationContextSchema, { trustedCa: file(tls.caCertificates), matchSubjectAltNames: sans }),
      };
    }
  }
  return create(DownstreamTlsContextSchema, { commonTlsContext: common, requireClientCertificate: tls.mode === 'MUTUAL' });
}
