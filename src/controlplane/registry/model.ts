import type { GatewayApiFinding } from './gateway-api/context.js';
import type {
  AuthorizationPolicy,
  DestinationRule,
  Gateway,
  PeerAuthentication,
  RequestAuthentication,
  Sidecar,
  Telemetry,
  VirtualService,
} from '../../config/objects.js';
import type { TlsCredential } from './secrets.js';
import type { AmbientSource } from './ambient-source.js';

/**
 * The service model: what the mesh knows, indexed for the translators.
 * Built from a ConfigState by registry/build-model.ts; immutable once built.
 */

/** Istio's protocol selection: from the port name prefix ("http-web") or appProtocol. */
export type Protocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'HTTPS' | 'TLS' | 'TCP' | 'MONGO' | 'REDIS' | 'MYSQL' | 'UDP' | 'UNKNOWN';

export interface MeshServicePort {
  name: string;
  port: number;
  /** Number, or a container port name resolved per endpoint. */
  targetPort: number | string;
  protocol: Protocol;
}

export interface MeshService {
  /** FQDN: reviews.default.svc.cluster.local, or a ServiceEntry host. */
  hostname: string;
  name: string;
  namespace: string;
  /** ClusterIP (or ServiceEntry address); undefined for headless / no VIP. */
  vip?: string;
  ports: readonly MeshServicePort[];
  labels: Readonly<Record<string, string>>;
  /** "." (own namespace), "*" (all) or namespace names; default ["*"]. */
  exportTo: readonly string[];
  origin: 'Service' | 'ServiceEntry';
  /**
   * A ServiceEntry host without addresses: Istio's auto-allocated addresses
   * (IPv4, then IPv6; config/service-entry-address.ts). Only proxies that
   * capture DNS use them (translate/scope.ts), as istiod's
   * nodeUsesAutoallocatedIPs decides; `vip` stays unset for the others.
   */
  autoAddresses?: readonly string[];
  /** DNS_ROUND_ROBIN (a ServiceEntry): one name, one host, a LOGICAL_DNS cluster. */
  resolution: 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'NONE';
  meshExternal: boolean;
  /** Pods / WorkloadEntries this service selects (Service selector, ServiceEntry workloadSelector); undefined selects none. */
  selector?: Readonly<Record<string, string>>;
  /** A ServiceEntry's subjectAltNames: identities its workloads present besides their service accounts (istiod's Service.ServiceAccounts). */
  subjectAltNames?: readonly string[];
}

export interface MeshEndpoint {
  address: string;
  /** The port on the workload (targetPort resolved). */
  port: number;
  /** The service port this endpoint serves. */
  servicePort: number;
  labels: Readonly<Record<string, string>>;
  serviceAccount?: string;
  namespace: string;
  ready: boolean;
  locality?: string;
  weight?: number;
  /** "Pod/ns/name", "WorkloadEntry/ns/name" or undefined (EndpointSlice without targetRef). */
  workload?: string;
  /**
   * The workload's security.istio.io/tlsMode label ("istio" once a sidecar is injected);
   * undefined without the label, which Istio reads as "disabled".
   */
  tlsMode?: string;
}

/** PeerAuthentication modes once UNSET is resolved. */
export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** A pod or workload entry: who a connecting proxy is. */
export interface Workload {
  name: string;
  namespace: string;
  address: string;
  labels: Readonly<Record<string, string>>;
  serviceAccount: string;
  kind: 'Pod' | 'WorkloadEntry';
  /** Named ports (Pod container ports, WorkloadEntry ports), to resolve named targetPorts. */
  ports?: Readonly<Record<string, number>>;
  /** "region/zone/subzone", when known. */
  locality?: string;
}

/**
 * The DestinationRules with a workloadSelector that select one proxy: rules
 * of its own namespace whose matchLabels its labels carry, in age order.
 * `key` names them, for caches shared by proxies that select the same.
 */
export interface SelectedRules {
  readonly key: string;
  readonly rules: ReadonlySet<DestinationRule>;
}

/**
 * The Telemetries that apply to one sidecar, as istiod's
 * applicableTelemetries picks them: the mesh-wide one (the oldest without a
 * selector in the root namespace), the namespace-wide one (the same in the
 * proxy's own namespace) and the workload one (the oldest of its namespace
 * whose selector its labels satisfy). Later levels override earlier ones.
 */
export interface ApplicableTelemetries {
  readonly mesh?: Telemetry;
  readonly namespace?: Telemetry;
  readonly workload?: Telemetry;
}

export interface MeshModel {
  /** Bumped with every rebuild; used as part of cache keys. */
  readonly revision: number;
  readonly domainSuffix: string;
  readonly trustDomain: string;
  readonly rootNamespace: string;
  /** Istio's meshConfig.enableAutoMtls: mTLS to endpoints with a sidecar when no DestinationRule sets tls. */
  readonly enableAutoMtls: boolean;

  /** All services, sorted by hostname. */
  readonly services: readonly MeshService[];
  service(hostname: string): MeshService | undefined;
  /** Ready and not-ready endpoints of one service port, sorted by address. */
  endpoints(hostname: string, servicePort: number): readonly MeshEndpoint[];

  /** Pod / WorkloadEntry by IP address. */
  workloadByIp(ip: string): Workload | undefined;
  /** Pod / WorkloadEntry by namespace and name (a proxy whose node id names its pod). */
  workload(namespace: string, name: string): Workload | undefined;
  /** Services whose selector matches these labels in that namespace (inbound). */
  servicesForWorkload(namespace: string, labels: Readonly<Record<string, string>>): readonly MeshService[];

  /** VirtualServices visible from a namespace, sorted by creation then name (Istio's precedence). */
  virtualServices(fromNamespace: string): readonly VirtualService[];
  /**
   * The DestinationRule that applies to `hostname` for a proxy in
   * `fromNamespace` (own ns > service ns > root ns): of the rules found there,
   * one the proxy's workloadSelector rules select (`selected`), else the
   * oldest without a workloadSelector.
   */
  destinationRule(hostname: string, fromNamespace: string, selected?: SelectedRules): DestinationRule | undefined;
  /** The DestinationRules with a workloadSelector that select a proxy of `namespace` with these labels; undefined when none. */
  selectedDestinationRules(namespace: string, labels: Readonly<Record<string, string>>): SelectedRules | undefined;
  /**
   * The Gateways a router proxy with these workload labels serves: those of
   * every namespace whose selector its labels satisfy (istiod's default,
   * PILOT_SCOPE_GATEWAY_TO_NAMESPACE off), oldest first; those converted
   * from the Gateway API only for a router in their own namespace.
   */
  gatewaysFor(labels: Readonly<Record<string, string>>, namespace: string): readonly Gateway[];
  /** What converting the Gateway API found that does not take effect, on the Gateway API objects (the analysis reports it). */
  readonly gatewayApiFindings: readonly GatewayApiFinding[];
  /** The Sidecar resource that scopes a proxy: workloadSelector match first, then the namespace default, then the root namespace. */
  sidecarFor(namespace: string, labels: Readonly<Record<string, string>>): Sidecar | undefined;
  peerAuthentications(namespace: string): readonly PeerAuthentication[];
  authorizationPolicies(namespace: string): readonly AuthorizationPolicy[];

  /**
   * The SPIFFE ids behind a service: its endpoints' service accounts
   * (spiffe://TRUST_DOMAIN/ns/NS/sa/SA) and a ServiceEntry's subjectAltNames,
   * sorted and deduplicated (istiod's PushContext.ServiceAccounts).
   */
  serviceAccounts(hostname: string): readonly string[];
  /**
   * The PeerAuthentications that can apply to a workload, as istiod lists them:
   * from its namespace and the root namespace, those without a selector (only
   * the oldest per namespace) and those whose selector its labels satisfy;
   * oldest first within a namespace.
   */
  peerAuthenticationsFor(namespace: string, labels: Readonly<Record<string, string>>): readonly PeerAuthentication[];
  /**
   * The mode of the namespace-wide policy of `namespace`, else of the mesh-wide
   * one (UNSET inherited); undefined when neither exists. istiod decides auto
   * mTLS towards a service by this, not by workload policies.
   */
  namespaceMtlsMode(namespace: string): MtlsMode | undefined;
  /**
   * The AuthorizationPolicies a sidecar enforces: root namespace first, then its
   * own namespace, each oldest first; without a selector or with one its labels
   * satisfy; policies with targetRef(s) are for gateways and waypoints, not sidecars.
   */
  authorizationPoliciesFor(namespace: string, labels: Readonly<Record<string, string>>): readonly AuthorizationPolicy[];
  /** The RequestAuthentications a sidecar enforces, chosen as AuthorizationPolicies are (root namespace, then its own; selector; no targetRef). */
  requestAuthenticationsFor(namespace: string, labels: Readonly<Record<string, string>>): readonly RequestAuthentication[];
  /**
   * The Telemetries that configure a sidecar (mesh, namespace, workload
   * level: istiod's applicableTelemetries); undefined when the config has
   * no Telemetry for sidecars at all.
   */
  telemetriesFor(namespace: string, labels: Readonly<Record<string, string>>): ApplicableTelemetries | undefined;
  /** The TLS credential of the Secret `name` in `namespace` (registry/secrets.ts), if it holds one. */
  credential(namespace: string, name: string): TlsCredential | undefined;
  /** What the workload API (ambient mode) reads: namespace labels, pods and AuthorizationPolicies as they are. */
  readonly ambient: AmbientSource;
  /** A ReferenceGrant (or the same namespace) lets Gateway API Gateways of `gatewayNamespace` use the Secret. */
  secretGrantedToGateways(gatewayNamespace: string, secretNamespace: string, secretName: string): boolean;
}
