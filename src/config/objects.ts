/**
 * The Kubernetes and Istio objects Trellis reads, as plain data in the shape
 * of their YAML (camelCase field names, as the API server serves them).
 * Only the fields Trellis acts on are typed; validation (validate/) rejects
 * unknown fields so that a typo is reported, not silently ignored.
 */
import type { FieldLines } from './field-lines.js';
import type { Deployment } from './deployment.js';
import { GATEWAY_API_GROUP, gatewayApiVersions, groupOf, type GatewayApiKind, type GatewayApiObject } from './gateway-api.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  generation?: number;
}

/** Where an object came from: "file.yaml:12" for the directory source, "k8s" for the API. */
export interface Origin {
  file: string;
  /** 1-based line where the object (document or List item) starts. */
  line: number;
  /** The line of each of its fields, when it was read from YAML (see field-lines.ts). */
  fields?: FieldLines;
}

export interface KObject<K extends string = string, S = unknown> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  /** Set by the loader, never part of the user's YAML. */
  origin?: Origin;
}

// ---- core/v1 --------------------------------------------------------------

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
  nodePort?: number;
}
export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: ServicePort[];
  selector?: Record<string, string>;
  externalName?: string;
}
export type Service = KObject<'Service', ServiceSpec>;

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}
export interface PodSpec {
  serviceAccountName?: string;
  nodeName?: string;
  containers?: { name: string; image?: string; ports?: ContainerPort[] }[];
}
export interface PodStatus {
  podIP?: string;
  podIPs?: { ip: string }[];
  phase?: string;
  conditions?: { type: string; status: string }[];
}
export interface Pod extends KObject<'Pod', PodSpec> {
  status?: PodStatus;
}

export type Namespace = KObject<'Namespace', Record<string, unknown>>;
export type { Deployment } from './deployment.js';
export type ServiceAccount = KObject<'ServiceAccount', undefined>;
/**
 * A Secret: read for gateways' credentialName (served over SDS, see
 * controlplane/registry/secrets.ts). `data` is base64 as the API server
 * serves it; `stringData` (what a YAML file may hold) is plain text.
 */
export interface Secret extends KObject<'Secret', undefined> {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  immutable?: boolean;
}

// ---- discovery.k8s.io/v1 --------------------------------------------------

export interface EndpointSliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  targetRef?: { kind?: string; name?: string; namespace?: string };
  nodeName?: string;
  zone?: string;
}
export interface EndpointSlice extends KObject<'EndpointSlice', undefined> {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: EndpointSliceEndpoint[];
  ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}

// ---- networking.istio.io ---------------------------------------------------

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}
export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
  ignoreUriCase?: boolean;
}
export interface PortSelector {
  number?: number;
}
export interface Destination {
  host: string;
  subset?: string;
  port?: PortSelector;
}
export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}
export interface Headers {
  request?: HeaderOperations;
  response?: HeaderOperations;
}
export interface HTTPRouteDestination {
  destination: Destination;
  weight?: number;
  headers?: Headers;
}
export interface HTTPRetry {
  attempts?: number;
  perTryTimeout?: string;
  retryOn?: string;
  retryRemoteLocalities?: boolean;
  retryIgnorePreviousHosts?: boolean;
  /** Base interval of Envoy's jittered exponential back-off between attempts. */
  backoff?: string;
}
export interface CorsPolicy {
  /** Deprecated: exact origins. */
  allowOrigin?: string[];
  allowOrigins?: StringMatch[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: string;
  allowCredentials?: boolean;
  unmatchedPreflights?: 'UNSPECIFIED' | 'FORWARD' | 'IGNORE';
}
export interface Percent {
  value?: number;
}
export interface HTTPFaultInjection {
  delay?: { fixedDelay?: string; percentage?: Percent; percent?: number };
  abort?: { httpStatus?: number; grpcStatus?: string; percentage?: Percent };
}
export interface HTTPRewrite {
  uri?: string;
  authority?: string;
  uriRegexRewrite?: { match?: string; rewrite?: string };
}
export interface HTTPRedirect {
  uri?: string;
  authority?: string;
  port?: number;
  scheme?: string;
  redirectCode?: number;
}
export interface HTTPDirectResponse {
  status: number;
  body?: { string?: string; bytes?: string };
}
export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: HTTPRouteDestination[];
  redirect?: HTTPRedirect;
  directResponse?: HTTPDirectResponse;
  rewrite?: HTTPRewrite;
  timeout?: string;
  retries?: HTTPRetry;
  fault?: HTTPFaultInjection;
  mirror?: Destination;
  mirrorPercentage?: Percent;
  mirrors?: { destination: Destination; percentage?: Percent }[];
  headers?: Headers;
  corsPolicy?: CorsPolicy;
  /** Another VirtualService (without hosts) whose http routes take this route's place. */
  delegate?: { name: string; namespace?: string };
}
export interface L4MatchAttributes {
  destinationSubnets?: string[];
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  sourceNamespace?: string;
}
export interface TLSMatchAttributes extends L4MatchAttributes {
  sniHosts: string[];
}
export interface RouteDestination {
  destination: Destination;
  weight?: number;
}
export interface TCPRoute {
  match?: L4MatchAttributes[];
  route?: RouteDestination[];
}
export interface TLSRoute {
  match: TLSMatchAttributes[];
  route?: RouteDestination[];
}
export interface VirtualServiceSpec {
  hosts?: string[];
  gateways?: string[];
  http?: HTTPRoute[];
  tcp?: TCPRoute[];
  tls?: TLSRoute[];
  exportTo?: string[];
}
export type VirtualService = KObject<'VirtualService', VirtualServiceSpec>;

export interface LoadBalancerSettings {
  simple?: 'UNSPECIFIED' | 'LEAST_CONN' | 'RANDOM' | 'PASSTHROUGH' | 'ROUND_ROBIN' | 'LEAST_REQUEST';
  consistentHash?: {
    httpHeaderName?: string;
    httpCookie?: { name: string; path?: string; ttl?: string };
    useSourceIp?: boolean;
    httpQueryParameterName?: string;
    ringHash?: { minimumRingSize?: number };
    maglev?: { tableSize?: number };
    minimumRingSize?: number;
  };
  localityLbSetting?: LocalityLbSetting;
  warmupDurationSecs?: string;
}
/** Istio's LocalityLoadBalancerSetting: localities are "region/zone/subzone", '*' a wildcard part. */
export interface LocalityLbSetting {
  distribute?: { from?: string; to?: Record<string, number> }[];
  failover?: { from?: string; to?: string }[];
  /** Label names (or "name=value") whose equality with the proxy's splits endpoints into priorities. */
  failoverPriority?: string[];
  enabled?: boolean;
}
export interface ConnectionPoolSettings {
  tcp?: { maxConnections?: number; connectTimeout?: string; tcpKeepalive?: { probes?: number; time?: string; interval?: string }; maxConnectionDuration?: string; idleTimeout?: string };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    idleTimeout?: string;
    h2UpgradePolicy?: 'DEFAULT' | 'DO_NOT_UPGRADE' | 'UPGRADE';
    useClientProtocol?: boolean;
    maxConcurrentStreams?: number;
  };
}
export interface OutlierDetection {
  consecutiveErrors?: number;
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  consecutiveLocalOriginFailures?: number;
  splitExternalLocalOriginErrors?: boolean;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}
export interface ClientTLSSettings {
  mode?: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  credentialName?: string;
  subjectAltNames?: string[];
  sni?: string;
  insecureSkipVerify?: boolean;
}
export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
  portLevelSettings?: (Omit<TrafficPolicy, 'portLevelSettings'> & { port?: PortSelector })[];
}
export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}
export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
  workloadSelector?: { matchLabels?: Record<string, string> };
}
export type DestinationRule = KObject<'DestinationRule', DestinationRuleSpec>;

export interface ServiceEntryPort {
  number: number;
  protocol?: string;
  name: string;
  targetPort?: number;
}
export interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
}
export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: ServiceEntryPort[];
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: { labels?: Record<string, string> };
  exportTo?: string[];
  subjectAltNames?: string[];
}
export type ServiceEntry = KObject<'ServiceEntry', ServiceEntrySpec>;
export type WorkloadEntry = KObject<'WorkloadEntry', WorkloadEntrySpec>;

export interface IstioEgressListener {
  port?: { number?: number; protocol?: string; name?: string };
  bind?: string;
  captureMode?: string;
  hosts: string[];
}
export interface SidecarIngress {
  port?: { number?: number; protocol?: string; name?: string; targetPort?: number };
  bind?: string;
  captureMode?: string;
  defaultEndpoint?: string;
  tls?: unknown;
  connectionPool?: unknown;
}
export interface SidecarSpec {
  workloadSelector?: { labels?: Record<string, string> };
  ingress?: SidecarIngress[];
  egress?: IstioEgressListener[];
  outboundTrafficPolicy?: { mode?: 'REGISTRY_ONLY' | 'ALLOW_ANY' };
}
export type Sidecar = KObject<'Sidecar', SidecarSpec>;

export interface GatewayPort {
  number: number;
  name: string;
  protocol: string;
  targetPort?: number;
}
export type ServerTlsMode = 'PASSTHROUGH' | 'SIMPLE' | 'MUTUAL' | 'AUTO_PASSTHROUGH' | 'ISTIO_MUTUAL' | 'OPTIONAL_MUTUAL';
export interface ServerTLSSettings {
  httpsRedirect?: boolean;
  mode?: ServerTlsMode;
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  caCrl?: string;
  credentialName?: string;
  credentialNames?: string[];
  tlsCertificates?: { serverCertificate?: string; privateKey?: string; caCertificates?: string }[];
  subjectAltNames?: string[];
  verifyCertificateSpki?: string[];
  verifyCertificateHash?: string[];
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
  cipherSuites?: string[];
}
export interface GatewayServer {
  port: GatewayPort;
  bind?: string;
  hosts: string[];
  tls?: ServerTLSSettings;
  name?: string;
  defaultEndpoint?: string;
}
export interface GatewaySpec {
  servers: GatewayServer[];
  selector?: Record<string, string>;
}
export type Gateway = KObject<'Gateway', GatewaySpec>;

// ---- security.istio.io -----------------------------------------------------

export type MutualTLSMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';
export interface PeerAuthenticationSpec {
  selector?: { matchLabels?: Record<string, string> };
  mtls?: { mode?: MutualTLSMode };
  portLevelMtls?: Record<string, { mode?: MutualTLSMode }>;
}
export type PeerAuthentication = KObject<'PeerAuthentication', PeerAuthenticationSpec>;

/** AuthorizationPolicy rule.from[].source: every list is optional; an unset list does not constrain. */
export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  trustDomains?: string[];
  notTrustDomains?: string[];
}
/** AuthorizationPolicy rule.to[].operation. */
export interface AuthorizationOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}
export interface AuthorizationCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}
export interface AuthorizationRule {
  from?: { source: AuthorizationSource }[];
  to?: { operation: AuthorizationOperation }[];
  when?: AuthorizationCondition[];
}
export interface PolicyTargetReference {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}
export interface AuthorizationPolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  rules?: AuthorizationRule[];
  provider?: { name: string };
}
export type AuthorizationPolicy = KObject<'AuthorizationPolicy', AuthorizationPolicySpec>;

/** RequestAuthentication jwtRules[]: one JWT issuer, where its keys are and where its tokens travel. */
export interface JWTRule {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  /** An inline JWKS (JSON text); wins over jwksUri. */
  jwks?: string;
  fromHeaders?: { name: string; prefix?: string }[];
  fromParams?: string[];
  fromCookies?: string[];
  outputPayloadToHeader?: string;
  outputClaimToHeaders?: { header: string; claim: string }[];
  forwardOriginalToken?: boolean;
  spaceDelimitedClaims?: string[];
  /** How long istiod waits for jwksUri (default 5s). */
  timeout?: string;
}
export interface RequestAuthenticationSpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  jwtRules?: JWTRule[];
}
export type RequestAuthentication = KObject<'RequestAuthentication', RequestAuthenticationSpec>;

// ---- telemetry.istio.io, and the Istio kinds Trellis accepts but never applies ----

export type { Telemetry, TelemetrySpec, AccessLogging, ProviderRef, WorkloadMode, EnvoyFilter, WasmPlugin, ProxyConfig, QuotaSpec } from './telemetry-objects.js';
import type { Telemetry, EnvoyFilter, WasmPlugin, ProxyConfig, QuotaSpec } from './telemetry-objects.js';

/** The core and Istio kinds: each is known by its kind name alone. */
export type CoreOrIstioObject =
  | Service
  | Pod
  | Deployment
  | Namespace
  | ServiceAccount
  | Secret
  | EndpointSlice
  | VirtualService
  | DestinationRule
  | ServiceEntry
  | WorkloadEntry
  | Sidecar
  | Gateway
  | PeerAuthentication
  | AuthorizationPolicy
  | RequestAuthentication
  | Telemetry
  | EnvoyFilter
  | WasmPlugin
  | ProxyConfig
  | QuotaSpec;

export type AnyObject = CoreOrIstioObject | GatewayApiObject;

/** A core or Istio kind (the Kubernetes source and the CRDs `trellis install` writes use these). */
export type Kind = CoreOrIstioObject['kind'];

/** What the registry keys a type by: the kind for core and Istio kinds, `Kind.gateway.networking.k8s.io` for the Gateway API's. */
export type TypeKey = Kind | `${GatewayApiKind}.${typeof GATEWAY_API_GROUP}`;

/**
 * The type key of an object: a kind is its group and name, and
 * gateway.networking.k8s.io's Gateway is not networking.istio.io's. Core and
 * Istio kinds keep their bare names (no two of them clash); without an
 * apiVersion the kind is taken as a core or Istio one.
 */
export function typeKey(o: { apiVersion?: string; kind: string }): string {
  return o.apiVersion !== undefined && groupOf(o.apiVersion) === GATEWAY_API_GROUP ? `${o.kind}.${GATEWAY_API_GROUP}` : o.kind;
}

const gatewayApiKindVersions = Object.fromEntries(
  Object.entries(gatewayApiVersions).map(([kind, versions]) => [`${kind}.${GATEWAY_API_GROUP}`, versions.map((v) => `${GATEWAY_API_GROUP}/${v}`)]),
) as unknown as Record<`${GatewayApiKind}.${typeof GATEWAY_API_GROUP}`, readonly string[]>;

/** The API groups and versions accepted for each type (Istio's three networking versions, the Gateway API's as istiod reads them). */
export const kindVersions: Record<TypeKey, readonly string[]> = {
  ...gatewayApiKindVersions,
  Namespace: ['v1'],
  Service: ['v1'],
  Pod: ['v1'],
  Deployment: ['apps/v1'],
  ServiceAccount: ['v1'],
  Secret: ['v1'],
  EndpointSlice: ['discovery.k8s.io/v1'],
  VirtualService: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
  DestinationRule: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
  ServiceEntry: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
  WorkloadEntry: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
  Sidecar: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
  Gateway: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
  PeerAuthentication: ['security.istio.io/v1', 'security.istio.io/v1beta1'],
  AuthorizationPolicy: ['security.istio.io/v1', 'security.istio.io/v1beta1'],
  RequestAuthentication: ['security.istio.io/v1', 'security.istio.io/v1beta1'],
  Telemetry: ['telemetry.istio.io/v1', 'telemetry.istio.io/v1alpha1'],
  EnvoyFilter: ['networking.istio.io/v1alpha3'],
  WasmPlugin: ['extensions.istio.io/v1alpha1'],
  ProxyConfig: ['networking.istio.io/v1beta1'],
  QuotaSpec: ['config.istio.io/v1alpha2'],
};

/** Cluster-scoped types (by typeKey) have no namespace; everything else defaults to "default". */
export const clusterScoped: ReadonlySet<string> = new Set(['Namespace', `GatewayClass.${GATEWAY_API_GROUP}`]);

/** "TypeKey/namespace/name": the identity used for conflicts and change tracking. */
export function objectKey(o: { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${typeKey(o)}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/**
 * Whether two versions of an object say the same: the same object (a
 * source keeps unchanged objects), the same resourceVersion when both have
 * one (the API server bumps it on every write), else equal contents.
 */
export function sameObjectContent(a: AnyObject, b: AnyObject): boolean {
  if (a === b) return true;
  const va = a.metadata.resourceVersion;
  const vb = b.metadata.resourceVersion;
  if (va !== undefined && vb !== undefined) return va === vb;
  return JSON.stringify(a) === JSON.stringify(b);
}
