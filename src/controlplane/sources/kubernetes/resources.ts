/**
 * What the Kubernetes source watches: every kind the registry reads, at the
 * API version it is read in. Istio's kinds are read at v1 (served since
 * Istio 1.22, and by `trellis install`'s CRDs); the API server converts
 * objects stored at v1beta1 or v1alpha3, whose schemas are the same.
 */
import type { Kind } from '../../../config/objects.js';

export interface WatchedResource {
  readonly kind: Kind;
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** The resource name in URLs (lowercase plural). */
  readonly plural: string;
  /** A CustomResourceDefinition: may not be installed (404), which is an empty collection, not an outage. */
  readonly crd: boolean;
}

const core = (kind: Kind, plural: string): WatchedResource => ({ kind, group: '', version: 'v1', plural, crd: false });
const istio = (kind: Kind, group: string, plural: string): WatchedResource => ({ kind, group, version: 'v1', plural, crd: true });

export const watchedResources: readonly WatchedResource[] = [
  core('Namespace', 'namespaces'),
  core('Service', 'services'),
  core('Pod', 'pods'),
  core('ServiceAccount', 'serviceaccounts'),
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
];

/** apiVersion as objects carry it: "v1", "discovery.k8s.io/v1". */
export function apiVersionOf(r: WatchedResource): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The collection across all namespaces: /api/v1/pods, /apis/networking.istio.io/v1/virtualservices. */
export function collectionPath(r: WatchedResource): string {
  return `${r.group === '' ? '/api' : `/apis/${r.group}`}/${r.version}/${r.plural}`;
}
