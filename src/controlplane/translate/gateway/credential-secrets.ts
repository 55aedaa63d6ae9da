/**
 * SDS Secrets for a router's credentialName references (istiod's
 * SecretGen for `kubernetes://` and `kubernetes-gateway://` resources): the
 * certificate chain and key as inline bytes, or the CA as a validation
 * context. Authorization as istiod's: a name resolves in the proxy's own
 * namespace; a Gateway API certificateRef in another namespace only when the
 * router's own gateway config names it (its ReferenceGrant was checked when
 * the Gateway was converted — istiod's VerifiedCertificateReferences); and
 * only router proxies are served at all (the generator asks this for routers
 * only) — a sidecar, or a gateway of another namespace, never receives a
 * Secret's key. A name with no usable Secret gets no resource: the proxy
 * keeps waiting for it and the chain stays unusable (TLS fails closed).
 */
import { create } from '@bufbuild/protobuf';
import { DataSourceSchema } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { CertificateValidationContextSchema, TlsCertificateSchema } from '../../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SecretSchema, type Secret } from '../../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { toResource, type XdsResource } from '../../wire/resource.js';
import type { MeshModel } from '../../registry/model.js';
import { CaCertSuffix, credentialCaName, credentialResourceName, parseCredentialResource, serverCredentialName } from './credential-names.js';
import type { MergedGateway } from './merge.js';

const bytes = (pem: string) => create(DataSourceSchema, { specifier: { case: 'inlineBytes', value: Buffer.from(pem, 'utf8') } });

/**
 * The cross-namespace credential names a router's gateway config uses
 * (Gateway API certificateRefs), each with the namespace of the Gateway
 * that names it: only these are served outside the router's namespace, and
 * only while a ReferenceGrant lets that Gateway read the Secret.
 */
export type VerifiedCredentials = ReadonlyMap<string, string>;

/**
 * The Envoy Secret for one SDS name asked for by a router of `proxyNamespace`,
 * or undefined. The CA of "NAME-cacert" is the Secret NAME-cacert's when that
 * exists, else NAME's own ca.crt/cacert (istiod's GetCaCert).
 */
export function credentialSecret(model: MeshModel, proxyNamespace: string, resource: string, verified: VerifiedCredentials): Secret | undefined {
  const ref = parseCredentialResource(resource);
  if (ref === undefined) return undefined;
  const namespace = ref.namespace ?? proxyNamespace;
  const gateway = verified.get(resource);
  if (namespace !== proxyNamespace && gateway === undefined) return undefined;
  const read = (name: string) => (namespace === proxyNamespace || model.secretGrantedToGateways(gateway!, namespace, name) ? model.credential(namespace, name) : undefined);
  if (ref.ca) {
    const own = read(ref.secret);
    const ca = own !== undefined ? own.ca : read(ref.secret.slice(0, -CaCertSuffix.length))?.ca;
    if (ca === undefined) return undefined;
    return create(SecretSchema, { name: resource, type: { case: 'validationContext', value: create(CertificateValidationContextSchema, { trustedCa: bytes(ca) }) } });
  }
  const cert = read(ref.secret)?.cert;
  if (cert === undefined) return undefined;
  return create(SecretSchema, {
    name: resource,
    type: { case: 'tlsCertificate', value: create(TlsCertificateSchema, { certificateChain: bytes(cert.chain), privateKey: bytes(cert.key) }) },
  });
}

/** The credential names `merged`'s servers use outside `namespace`, with the namespace of the Gateway naming each. */
export function verifiedCredentials(merged: MergedGateway, namespace: string): VerifiedCredentials {
  const out = new Map<string, string>();
  for (const p of merged.ports) {
    for (const s of p.servers) {
      const name = serverCredentialName(s.server.tls);
      if (name === undefined) continue;
      for (const resource of [credentialResourceName(name), credentialCaName(name)]) {
        const ref = parseCredentialResource(resource);
        if (ref?.namespace !== undefined && ref.namespace !== namespace && !out.has(resource)) out.set(resource, s.gatewayNamespace);
      }
    }
  }
  return out;
}

/** The named credentials a router of `namespace` may have and that exist, as resources. */
export function credentialResources(model: MeshModel, namespace: string, names: ReadonlySet<string>, verified: VerifiedCredentials): Map<string, XdsResource> {
  const out = new Map<string, XdsResource>();
  for (const name of names) {
    const s = credentialSecret(model, namespace, name, verified);
    if (s) out.set(name, toResource(SecretSchema, name, s));
  }
  return out;
}
