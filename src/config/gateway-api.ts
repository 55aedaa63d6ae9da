/**
 * The Kubernetes Gateway API objects (gateway.networking.k8s.io) Trellis
 * reads, as plain data in the shape of their YAML. Only the fields the
 * conversion acts on are typed; validate/gateway-api/ lists every field of
 * the CRDs so a typo is still reported.
 *
 * Their kind names are not unique across groups (this group's Gateway is not
 * networking.istio.io's), so these objects are keyed by `Kind.group`
 * everywhere (objects.ts typeKey).
 */
import type { KObject } from './objects.js';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/** istiod's GatewayClass `istio` controller; Gateways of other classes are another controller's. */
export const ISTIO_GATEWAY_CONTROLLER = 'istio.io/gateway-controller';
/** istiod's waypoint class and its controller (ambient mode: translate/ambient/waypoints.ts). */
export const WAYPOINT_CLASS = 'istio-waypoint';
export const MESH_CONTROLLER = 'istio.io/mesh-controller';

/** The label istiod puts on the pods it deploys for a Gateway; a router proxy with it serves that Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface BackendObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}
export interface BackendRef extends BackendObjectReference {
  weight?: number;
}
export interface HTTPBackendRef extends BackendRef {
  filters?: HTTPRouteFilter[];
}

export interface HTTPHeader {
  name: string;
  value: string;
}
export interface HTTPHeaderFilter {
  set?: HTTPHeader[];
  add?: HTTPHeader[];
  remove?: string[];
}
export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}
export interface HTTPRequestRedirectFilter {
  scheme?: 'http' | 'https';
  hostname?: string;
  path?: HTTPPathModifier;
  port?: number;
  statusCode?: number;
}
export interface HTTPURLRewriteFilter {
  hostname?: string;
  path?: HTTPPathModifier;
}
export interface HTTPRequestMirrorFilter {
  backendRef: BackendObjectReference;
  percent?: number;
  fraction?: { numerator: number; denominator?: number };
}
export interface HTTPCORSFilter {
  allowOrigins?: string[];
  allowCredentials?: boolean;
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: number;
}
export interface HTTPRouteFilter {
  type: string;
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestRedirect?: HTTPRequestRedirectFilter;
  urlRewrite?: HTTPURLRewriteFilter;
  requestMirror?: HTTPRequestMirrorFilter;
  extensionRef?: unknown;
  cors?: HTTPCORSFilter;
}

export interface ValueMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}
export interface HTTPRouteMatch {
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; value?: string };
  headers?: ValueMatch[];
  queryParams?: ValueMatch[];
  method?: string;
}
export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
  retry?: { codes?: number[]; attempts?: number; backoff?: string };
  sessionPersistence?: unknown;
}
export interface HTTPRouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules?: HTTPRouteRule[];
}

export interface GRPCRouteMatch {
  method?: { type?: 'Exact' | 'RegularExpression'; service?: string; method?: string };
  headers?: ValueMatch[];
}
export interface GRPCRouteRule {
  name?: string;
  matches?: GRPCRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  sessionPersistence?: unknown;
}
export interface GRPCRouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules?: GRPCRouteRule[];
}

export interface L4RouteRule {
  name?: string;
  backendRefs?: BackendRef[];
}
export interface TCPRouteSpec {
  parentRefs?: ParentReference[];
  rules: L4RouteRule[];
}
export interface TLSRouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules: L4RouteRule[];
}

export interface SecretObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}
export interface GatewayTLSConfig {
  mode?: 'Terminate' | 'Passthrough';
  certificateRefs?: SecretObjectReference[];
  options?: Record<string, string>;
  frontendValidation?: unknown;
}
export interface AllowedRoutes {
  namespaces?: { from?: 'All' | 'Same' | 'Selector'; selector?: LabelSelector };
  kinds?: { group?: string; kind: string }[];
}
export interface Listener {
  name: string;
  hostname?: string;
  port: number;
  protocol: string;
  tls?: GatewayTLSConfig;
  allowedRoutes?: AllowedRoutes;
}
export interface KubernetesGatewaySpec {
  gatewayClassName: string;
  listeners: Listener[];
  addresses?: unknown[];
  infrastructure?: unknown;
}

export interface GatewayClassSpec {
  controllerName: string;
  parametersRef?: unknown;
  description?: string;
}

export interface ReferenceGrantSpec {
  from: { group: string; kind: string; namespace: string }[];
  to: { group: string; kind: string; name?: string }[];
}

export type GatewayClass = KObject<'GatewayClass', GatewayClassSpec>;
/** Istio's own code names it the same way (gvk.KubernetesGateway). */
export type KubernetesGateway = KObject<'Gateway', KubernetesGatewaySpec>;
export type KubernetesHTTPRoute = KObject<'HTTPRoute', HTTPRouteSpec>;
export type KubernetesGRPCRoute = KObject<'GRPCRoute', GRPCRouteSpec>;
export type KubernetesTCPRoute = KObject<'TCPRoute', TCPRouteSpec>;
export type KubernetesTLSRoute = KObject<'TLSRoute', TLSRouteSpec>;
export type ReferenceGrant = KObject<'ReferenceGrant', ReferenceGrantSpec>;

export type GatewayApiObject =
  | GatewayClass
  | KubernetesGateway
  | KubernetesHTTPRoute
  | KubernetesGRPCRoute
  | KubernetesTCPRoute
  | KubernetesTLSRoute
  | ReferenceGrant;

export type GatewayApiKind = GatewayApiObject['kind'];

/** The versions istiod reads for each kind (its gvk table: older versions where it still accepts them). */
export const gatewayApiVersions: Readonly<Record<GatewayApiKind, readonly string[]>> = {
  GatewayClass: ['v1', 'v1beta1'],
  Gateway: ['v1', 'v1beta1'],
  HTTPRoute: ['v1', 'v1beta1'],
  GRPCRoute: ['v1', 'v1alpha2'],
  TCPRoute: ['v1alpha2', 'v1'],
  TLSRoute: ['v1alpha2', 'v1'],
  ReferenceGrant: ['v1beta1', 'v1alpha2'],
};

/** The group of an apiVersion ("" for core). */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

/** Is this object one of the Gateway API's (whatever its kind name)? */
export function isGatewayApi(o: { apiVersion?: string }): boolean {
  return o.apiVersion !== undefined && groupOf(o.apiVersion) === GATEWAY_API_GROUP;
}
