/**
 * SDS Secrets for a router's credentialName references (istiod's
 * SecretGen for `kubernetes://` resources): the certificate chain and key as
 * inline bytes, or the CA as a validation context. Authorization as
 * istiod's: a name resolves only in the proxy's own namespace, and only
 * router proxies are served at all (the generator asks this for routers
 * only) — a sidecar, or a gateway of another namespace, never receives a
 * Secret's key. A name with no usable Secret gets no resource: the proxy
 * keeps waiting for it and the chain stays unusable (TLS fails closed).
 */
import { create } from '@bufbuild/protobuf';
import { DataSourceSchema } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { CertificateValidationContextSchema, TlsCertificateSchema } from '../../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SecretSchema, type Secret } from '../../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { toResource, type XdsResource } from '../../cache/resource.js';
import type { MeshModel } from '../../registry/model.js';
import { CaCertSuffix, parseCredentialResource } from './credential-names.js';

const bytes = (pem: string) => create(DataSourceSchema, { specifier: { case: 'inlineBytes', value: Buffer.from(pem, 'utf8') } });

/**
 * The Envoy Secret for one SDS name in `namespace`, or undefined. The CA of
 * "NAME-cacert" is the Secret NAME-cacert's when that exists, else NAME's own
 * ca.crt/cacert (istiod's GetCaCert).
 */
export function credentialSecret(model: MeshModel, namespace: string, resource: string): Secret | undefined {
  const ref = parseCredentialResource(resource);
  if (ref === undefined) return undefined;
  if (ref.ca) {
    const own = model.credential(namespace, ref.secret);
    const ca = own !== undefined ? own.ca : model.credential(namespace, ref.secret.slice(0, -CaCertSuffix.length))?.ca;
    if (ca === undefined) return undefined;
    return create(SecretSchema, { name: resource, type: { case: 'validationContext', value: create(CertificateValidationContextSchema, { trustedCa: bytes(ca) }) } });
  }
  const cert = model.credential(namespace, ref.secret)?.cert;
  if (cert === undefined) return undefined;
  return create(SecretSchema, {
    name: resource,
    type: { case: 'tlsCertificate', value: create(TlsCertificateSchema, { certificateChain: bytes(cert.chain), privateKey: bytes(cert.key) }) },
  });
}

/** The named credentials of `namespace` that exist, as resources. */
export function credentialResources(model: MeshModel, namespace: string, names: ReadonlySet<string>): Map<string, XdsResource> {
  const out = new Map<string, XdsResource>();
  for (const name of names) {
    const s = credentialSecret(model, namespace, name);
    if (s) out.set(name, toResource(SecretSchema, name, s));
  }
  return out;
}
