/**
 * What the Kubernetes source watches: every kind the registry reads, at the
 * API version it is read in. Istio's kinds are read at v1 (served since
 * Istio 1.22, and by `trellis install`'s CRDs); the API server converts
 * objects stored at v1beta1 or v1alpha3, whose schemas are the same. The
 * Gateway API's kinds are read at the versions istiod watches (its CRDs are
 * the user's to install; until they are, each is an empty collection).
 */
import { GATEWAY_API_GROUP, type GatewayApiKind } from '../../../config/gateway-api.js';
import { typeKey, type Kind } from '../../../config/objects.js';

export interface WatchedResource {
  /** The kind name; with the group, the type (objects.ts typeKey: the Gateway API's Gateway is not Istio's). */
  readonly kind: Kind | GatewayApiKind;
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** The resource name in URLs (lowercase plural). */
  readonly plural: string;
  /** A CustomResourceDefinition: may not be installed (404), which is an empty collection, not an outage. */
  readonly crd: boolean;
  /** Only the objects the API server selects (list and watch): what the registry would never read is not sent. */
  readonly fieldSelector?: string;
}

/** istiod's SecretsFieldSelector (pilot/pkg/credentials/kube). */
export const SECRETS_FIELD_SELECTOR = 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token';

const core = (kind: Kind, plural: string): WatchedResource => ({ kind, group: '', version: 'v1', plural, crd: false });
const istio = (kind: Kind, group: string, plural: string): WatchedResource => ({ kind, group, version: 'v1', plural, crd: true });
const gatewayApi = (kind: GatewayApiKind, version: string, plural: string): WatchedResource => ({ kind, group: GATEWAY_API_GROUP, version, plural, crd: true });

export const watchedResources: readonly WatchedResource[] = [
  core('Namespace', 'namespaces'),
  core('Service', 'services'),
  core('Pod', 'pods'),
  core('ServiceAccount', 'serviceaccounts'),
  // Gateways' credentialName certificates (istiod watches every namespace's Secrets for the same reason), without
  // the two kinds of Secret that are many and never a certificate — istiod's field selector: Helm's release
  // records and service-account tokens.
  { ...core('Secret', 'secrets'), fieldSelector: SECRETS_FIELD_SELECTOR },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', crd: false },
  istio('VirtualService', 'networking.istio.io', 'virtualservices'),
  istio('DestinationRule', 'networking.istio.io', 'destinationrules'),
  istio('ServiceEntry', 'networking.istio.io', 'serviceentries'),
  istio('WorkloadEntry', 'networking.istio.io', 'workloadentries'),
  istio('Sidecar', 'networking.istio.io', 'sidecars'),
  istio('Gateway', 'networking.istio.io', 'gateways'),
  istio('PeerAuthentication', 'security.istio.io', 'peerauthentications'),
  istio('AuthorizationPolicy', 'security.istio.io', 'authorizationpolicies'),
  istio('RequestAuthentication', 'security.istio.io', 'requestauthentications'),
  istio('Telemetry', 'telemetry.istio.io', 'telemetries'),
  gatewayApi('GatewayClass', 'v1', 'gatewayclasses'),
  gatewayApi('Gateway', 'v1', 'gateways'),
  gatewayApi('HTTPRoute', 'v1', 'httproutes'),
  gatewayApi('GRPCRoute', 'v1', 'grpcroutes'),
  gatewayApi('TCPRoute', 'v1alpha2', 'tcproutes'),
  gatewayApi('TLSRoute', 'v1alpha2', 'tlsroutes'),
  gatewayApi('ReferenceGrant', 'v1beta1', 'referencegrants'),
];

/** The type a resource holds (objects.ts typeKey): "Gateway" for Istio's, "Gateway.gateway.networking.k8s.io" for the Gateway API's. */
export const resourceType = (r: WatchedResource): string => typeKey({ apiVersion: apiVersionOf(r), kind: r.kind });

/** apiVersion as objects carry it: "v1", "discovery.k8s.io/v1". */
export function apiVersionOf(r: WatchedResource): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The collection across all namespaces: /api/v1/pods, /apis/networking.istio.io/v1/virtualservices. */
export function collectionPath(r: WatchedResource): string {
  return `${r.group === '' ? '/api' : `/apis/${r.group}`}/${r.version}/${r.plural}`;
}
