/** SDS secrets and TLS transport sockets, as Istio's pilot-agent and istiod shape them ("default", "ROOTCA"). */
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack, anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { TrafficDirection, TransportSocketSchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { SecretSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { Pem } from '../../helpers/pki.js';

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };
const inline = (s: string) => ({ specifier: { case: 'inlineBytes' as const, value: Buffer.from(s) } });

export function certSecret(name: string, pem: Pick<Pem, 'cert' | 'key'>): Any {
  return anyPack(SecretSchema, create(SecretSchema, { name, type: { case: 'tlsCertificate', value: { certificateChain: inline(pem.cert), privateKey: inline(pem.key) } } }));
}

export function caSecret(name: string, caPem: string): Any {
  return anyPack(SecretSchema, create(SecretSchema, { name, type: { case: 'validationContext', value: { trustedCa: inline(caPem) } } }));
}

function common(sans: string[], alpn: string[], certName = 'default') {
  return {
    tlsCertificateSdsSecretConfigs: [{ name: certName, sdsConfig: ads }],
    validationContextType: {
      case: 'combinedValidationContext' as const,
      value: {
        defaultValidationContext: { matchSubjectAltNames: sans.map((s) => ({ matchPattern: { case: 'exact' as const, value: s } })) },
        validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads },
      },
    },
    alpnProtocols: alpn,
  };
}

/** An inbound listener whose filter chains terminate mTLS (Istio STRICT): client certificate required, SANs matched. */
export function withDownstreamMtls(listener: Any, o: { sans?: string[]; alpn?: string[]; requireClientCert?: boolean } = {}): Any {
  const l = fromAny(listener, ListenerSchema);
  l.trafficDirection = TrafficDirection.INBOUND;
  const ctx = create(DownstreamTlsContextSchema, { commonTlsContext: common(o.sans ?? [], o.alpn ?? ['h2', 'http/1.1']), requireClientCertificate: o.requireClientCert ?? true });
  for (const fc of l.filterChains) fc.transportSocket = create(TransportSocketSchema, { name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, ctx) } });
  return anyPack(ListenerSchema, l);
}

/** The cluster originates Istio mTLS: "default" as client certificate, "ROOTCA" and the SANs to verify the server. */
export function withUpstreamMtls(cluster: Any, o: { sans?: string[]; sni?: string; alpn?: string[]; certSecret?: string } = {}): Any {
  const c = fromAny(cluster, ClusterSchema);
  const ctx = create(UpstreamTlsContextSchema, { commonTlsContext: common(o.sans ?? [], o.alpn ?? ['istio-peer-exchange', 'istio'], o.certSecret), sni: o.sni ?? '' });
  c.transportSocket = create(TransportSocketSchema, { name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, ctx) } });
  return anyPack(ClusterSchema, c);
}

function fromAny<S extends DescMessage>(any: Any, schema: S): MessageShape<S> {
  const m = anyUnpack(any, schema);
  if (!m) throw new Error(`not a ${schema.typeName}: ${any.typeUrl}`);
  return m;
}
