import type {
  AnyObject,
  AuthorizationPolicy,
  RequestAuthentication,
  Telemetry,
  DestinationRule,
  Secret,
  EndpointSlice,
  Gateway,
  Namespace,
  PeerAuthentication,
  Pod,
  Service,
  ServiceEntry,
  Sidecar,
  VirtualService,
  WorkloadEntry,
} from '../../config/objects.js';
import type { GatewayClass, KubernetesGateway, KubernetesGRPCRoute, KubernetesHTTPRoute, KubernetesTCPRoute, KubernetesTLSRoute, ReferenceGrant } from '../../config/gateway-api.js';
import { objectKey, typeKey } from '../../config/objects.js';
import type { ConfigState } from '../sources/source.js';
import { convertGatewayApi, type GatewayApiFinding } from './gateway-api/convert.js';
import { ReferenceGrants } from './gateway-api/reference-grants.js';
import { GATEWAY_API_GROUP } from '../../config/gateway-api.js';
import type { ApplicableTelemetries, MeshEndpoint, MeshModel, MeshService, MtlsMode, SelectedRules, Workload } from './model.js';
import { mergeDelegates } from './delegates.js';
import { serviceEntryToMesh, serviceToMesh } from './services.js';
import { allocateServiceEntryAddresses } from '../../config/service-entry-address.js';
import { indexWorkloads, podReady, podToWorkload, workloadEntryToWorkload, type WorkloadIndex } from './workloads.js';
import { buildEndpoints, sameEndpoints, type EndpointIndex, type EndpointInputs } from './endpoints-build.js';
import type { EndpointChange } from './state-change.js';
import { PolicyIndex } from './policies.js';
import { SecurityPolicyIndex } from './security-policies.js';
import { byKey, isEmpty, selectorMatches } from './labels.js';
import { byAge } from './policies.js';
import { TelemetryIndex } from './telemetries.js';
import { indexCredentials, type TlsCredential } from './secrets.js';
import { ambientSource, type AmbientSource } from './ambient-source.js';

export interface BuildModelOptions {
  /** Default "cluster.local". */
  domainSuffix?: string;
  /** Default: the domain suffix, as in Istio. */
  trustDomain?: string;
  /** Default "istio-system" (Istio's meshConfig.rootNamespace). */
  rootNamespace?: string;
  /** Default true (Istio's meshConfig.enableAutoMtls). */
  enableAutoMtls?: boolean;
}

interface Buckets {
  services: Service[];
  serviceEntries: ServiceEntry[];
  pods: Pod[];
  workloadEntries: WorkloadEntry[];
  slices: EndpointSlice[];
  dr: DestinationRule[];
  vs: VirtualService[];
  sidecars: Sidecar[];
  gateways: Gateway[];
  pa: PeerAuthentication[];
  ap: AuthorizationPolicy[];
  ra: RequestAuthentication[];
  telemetries: Telemetry[];
  secrets: Secret[];
  namespaces: Namespace[];
  gatewayApi: {
    classes: GatewayClass[];
    gateways: KubernetesGateway[];
    httpRoutes: KubernetesHTTPRoute[];
    grpcRoutes: KubernetesGRPCRoute[];
    tcpRoutes: KubernetesTCPRoute[];
    tlsRoutes: KubernetesTLSRoute[];
    grants: ReferenceGrant[];
  };
}

function bucket(objects: Iterable<AnyObject>): Buckets {
  const g: Buckets['gatewayApi'] = { classes: [], gateways: [], httpRoutes: [], grpcRoutes: [], tcpRoutes: [], tlsRoutes: [], grants: [] };
  const b: Buckets = { services: [], serviceEntries: [], pods: [], workloadEntries: [], slices: [], dr: [], vs: [], sidecars: [], gateways: [], pa: [], ap: [], ra: [], telemetries: [], secrets: [], namespaces: [], gatewayApi: g };
  // By type key: the Gateway API's Gateway is not networking.istio.io's.
  for (const o of objects) {
    switch (typeKey(o)) {
      case 'Namespace': b.namespaces.push(o as Namespace); break;
      case 'Service': b.services.push(o as Service); break;
      case 'ServiceEntry': b.serviceEntries.push(o as ServiceEntry); break;
      case 'Pod': b.pods.push(o as Pod); break;
      case 'WorkloadEntry': b.workloadEntries.push(o as WorkloadEntry); break;
      case 'EndpointSlice': b.slices.push(o as EndpointSlice); break;
      case 'DestinationRule': b.dr.push(o as DestinationRule); break;
      case 'VirtualService': b.vs.push(o as VirtualService); break;
      // A Sidecar without spec is valid (namespace-wide defaults): read as an empty one, never as undefined.
      case 'Sidecar': b.sidecars.push((o.spec as Sidecar['spec'] | undefined) === undefined ? { ...(o as Sidecar), spec: {} } : (o as Sidecar)); break;
      case 'Gateway': b.gateways.push(o as Gateway); break;
      case 'PeerAuthentication': b.pa.push(o as PeerAuthentication); break;
      case 'AuthorizationPolicy': b.ap.push(o as AuthorizationPolicy); break;
      case 'RequestAuthentication': b.ra.push(o as RequestAuthentication); break;
      case 'GatewayClass.gateway.networking.k8s.io': g.classes.push(o as GatewayClass); break;
      case 'Gateway.gateway.networking.k8s.io': g.gateways.push(o as KubernetesGateway); break;
      case 'HTTPRoute.gateway.networking.k8s.io': g.httpRoutes.push(o as KubernetesHTTPRoute); break;
      case 'GRPCRoute.gateway.networking.k8s.io': g.grpcRoutes.push(o as KubernetesGRPCRoute); break;
      case 'TCPRoute.gateway.networking.k8s.io': g.tcpRoutes.push(o as KubernetesTCPRoute); break;
      case 'TLSRoute.gateway.networking.k8s.io': g.tlsRoutes.push(o as KubernetesTLSRoute); break;
      case 'ReferenceGrant.gateway.networking.k8s.io': g.grants.push(o as ReferenceGrant); break;
      case 'Telemetry': b.telemetries.push(o as Telemetry); break;
      case 'Secret': b.secrets.push(o as Secret); break;
      default: break;
    }
  }
  // Translation sees roots with their delegates merged in, as istiod's merged VirtualServices.
  if (b.vs.some((vs) => (vs.spec.hosts ?? []).length === 0 || (vs.spec.http ?? []).some((r) => r.delegate !== undefined))) b.vs = mergeDelegates(b.vs);
  return b;
}

function meshServices(b: Buckets, domainSuffix: string): Map<string, MeshService> {
  const byHost = new Map<string, MeshService>();
  // Kubernetes Services first: a ServiceEntry never shadows a Service of the same name.
  for (const s of b.services) {
    const m = serviceToMesh(s, domainSuffix);
    if (m) byHost.set(m.hostname, m);
  }
  const entries = [...b.serviceEntries].sort(byKey((e) => `${e.metadata.creationTimestamp ?? ''}/${e.metadata.namespace ?? ''}/${e.metadata.name}`));
  const allocated = allocateServiceEntryAddresses(entries);
  for (const se of entries) for (const m of serviceEntryToMesh(se, allocated)) if (!byHost.has(m.hostname)) byHost.set(m.hostname, m);
  return byHost;
}

function slicesByService(slices: EndpointSlice[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of [...slices].sort(byKey((x) => `${x.metadata.namespace ?? ''}/${x.metadata.name}`))) {
    const svc = s.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const key = `${s.metadata.namespace ?? 'default'}/${svc}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(s);
  }
  return out;
}

/**
 * Builds the immutable, indexed service model from one configuration state.
 * Pure: equal states give equal models (everything is sorted).
 */
export function buildModel(state: ConfigState, opts: BuildModelOptions = {}): MeshModel {
  const domainSuffix = opts.domainSuffix ?? 'cluster.local';
  const rootNamespace = opts.rootNamespace ?? 'istio-system';
  const b = bucket(state.objects.values());
  const byHost = meshServices(b, domainSuffix);
  const gatewayApi = addGatewayApi(b, domainSuffix);
  const services = [...byHost.values()].sort(byKey((s) => s.hostname));

  const workloads: Workload[] = [];
  const ready = new Map<string, boolean>();
  for (const p of b.pods) {
    const w = podToWorkload(p);
    if (!w) continue;
    workloads.push(w);
    ready.set(`${w.namespace}/${w.name}`, podReady(p));
  }
  for (const we of b.workloadEntries) {
    const w = workloadEntryToWorkload(we);
    if (w) workloads.push(w);
  }
  const wIndex = indexWorkloads(workloads);
  const seByName = new Map(b.serviceEntries.map((se) => [`${se.metadata.namespace ?? 'default'}/${se.metadata.name}`, se]));
  const externalNames = new Map<string, string>();
  for (const s of b.services) {
    if (s.spec?.type === 'ExternalName' && s.spec.externalName) externalNames.set(`${s.metadata.name}.${s.metadata.namespace ?? 'default'}.svc.${domainSuffix}`, s.spec.externalName);
  }
  const inputs: EndpointInputs = { workloads: wIndex, podReady: ready, slices: slicesByService(b.slices), serviceEntries: seByName, externalNames };
  const endpoints = buildEndpoints(services, inputs);
  const policies = new PolicyIndex(b, domainSuffix, rootNamespace);
  const security = new SecurityPolicyIndex(b.pa, b.ap, b.ra, rootNamespace);
  const mesh = { domainSuffix, trustDomain: opts.trustDomain ?? domainSuffix, rootNamespace, enableAutoMtls: opts.enableAutoMtls ?? true };
  const gateways = [...b.gateways].sort(byAge);
  const telemetry = new TelemetryIndex(b.telemetries, rootNamespace);
  const credentials = indexCredentials(b.secrets);
  const grants = new ReferenceGrants(b.gatewayApi.grants);
  const ambient = ambientSource(b.namespaces, b.pods, b.ap, b.gatewayApi.gateways, b.gatewayApi.classes);
  return new Model(state.revision, mesh, services, { byHost, endpoints, inputs, workloads: wIndex, policies, security, gateways, telemetry, gatewayApiFindings: gatewayApi, credentials, grants, ambient });
}

/** The model after an endpoint-only change, and the hostnames whose endpoints it changed. */
export interface EndpointUpdate {
  readonly model: MeshModel;
  readonly changedHosts: ReadonlySet<string>;
}

/**
 * The model for `next` when it differs from `prev`'s state only by `change`
 * (registry/state-change.ts): the same objects as `prev` for everything
 * but the endpoints of the services the change can reach, the readiness of
 * its pods and the ambient view's pods — so that translation memoised on
 * those objects (translate/incremental.ts) stays valid. Only the services
 * named by the changed slices and those in the changed pods' namespaces are
 * recomputed; a service whose recomputed endpoints equal the old ones keeps
 * the old list. Equal to buildModel(next) in everything a reader can see
 * (the incremental property test checks it through translation).
 */
export function updateEndpoints(prev: MeshModel, next: ConfigState, change: EndpointChange): EndpointUpdate | undefined {
  return prev instanceof Model ? prev.withEndpoints(next, change) : undefined;
}

/**
 * The model for `next` when it differs from `prev`'s state only in
 * VirtualServices (registry/state-change.ts classifyChange): the
 * routing policies rebuilt, everything else `prev`'s own objects — the same
 * services, endpoints and DestinationRules, so that clusters, load
 * assignments and virtual hosts memoised on them stay valid.
 */
export function updateRouting(prev: MeshModel, next: ConfigState): MeshModel | undefined {
  return prev instanceof Model ? prev.withRouting(next) : undefined;
}

/**
 * The Gateway API converted as istiod converts it: its Istio Gateways and
 * VirtualServices join the buckets translation reads; returns its findings.
 */
function addGatewayApi(b: Buckets, domainSuffix: string): readonly GatewayApiFinding[] {
  const g = b.gatewayApi;
  if (g.gateways.length === 0 && g.httpRoutes.length + g.grpcRoutes.length + g.tcpRoutes.length + g.tlsRoutes.length === 0) return [];
  const services = new Set(b.services.map((s) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`));
  const out = convertGatewayApi({ ...g, namespaces: b.namespaces, domainSuffix, serviceExists: (ns, name) => services.has(`${ns}/${name}`) });
  b.gateways.push(...out.gateways);
  b.vs.push(...out.virtualServices);
  return out.findings;
}

const fromGatewayApi = (g: Gateway) => g.metadata.annotations?.['internal.istio.io/gateway-semantics'] === 'gateway';

interface MeshSettings {
  domainSuffix: string;
  trustDomain: string;
  rootNamespace: string;
  enableAutoMtls: boolean;
}

const none: readonly never[] = Object.freeze([]);

interface ModelIndexes {
  byHost: ReadonlyMap<string, MeshService>;
  endpoints: EndpointIndex;
  /** What the endpoints were built from: an endpoint-only change rebuilds some of them. */
  inputs: EndpointInputs;
  workloads: WorkloadIndex;
  policies: PolicyIndex;
  security: SecurityPolicyIndex;
  gateways: readonly Gateway[];
  gatewayApiFindings: readonly GatewayApiFinding[];
  telemetry: TelemetryIndex;
  credentials: ReadonlyMap<string, TlsCredential>;
  grants: ReferenceGrants;
  ambient: AmbientSource;
}

class Model implements MeshModel {
  readonly #indexes: ModelIndexes;
  readonly #selecting = new Map<string, MeshService[]>();
  readonly #byHost: ReadonlyMap<string, MeshService>;
  readonly #eps: EndpointIndex;
  readonly #wl: WorkloadIndex;
  readonly #policies: PolicyIndex;
  readonly #security: SecurityPolicyIndex;
  readonly #accounts = new Map<string, readonly string[]>();
  readonly #gateways: readonly Gateway[];
  readonly #telemetry: TelemetryIndex;
  readonly gatewayApiFindings: readonly GatewayApiFinding[];
  readonly #credentials: ReadonlyMap<string, TlsCredential>;
  readonly #grants: ReferenceGrants;
  readonly ambient: AmbientSource;
  readonly domainSuffix: string;
  readonly trustDomain: string;
  readonly rootNamespace: string;
  readonly enableAutoMtls: boolean;

  constructor(
    readonly revision: number,
    mesh: MeshSettings,
    readonly services: readonly MeshService[],
    indexes: ModelIndexes,
  ) {
    this.#indexes = indexes;
    this.#grants = indexes.grants;
    this.ambient = indexes.ambient;
    this.#gateways = indexes.gateways;
    this.gatewayApiFindings = indexes.gatewayApiFindings;
    this.#telemetry = indexes.telemetry;
    this.#credentials = indexes.credentials;
    ({ domainSuffix: this.domainSuffix, trustDomain: this.trustDomain, rootNamespace: this.rootNamespace, enableAutoMtls: this.enableAutoMtls } = mesh);
    this.#byHost = indexes.byHost;
    this.#eps = indexes.endpoints;
    this.#wl = indexes.workloads;
    this.#policies = indexes.policies;
    this.#security = indexes.security;
    // Services with a selector, by namespace: the candidates for servicesForWorkload.
    for (const s of services) {
      if (isEmpty(s.selector)) continue;
      let list = this.#selecting.get(s.namespace);
      if (!list) this.#selecting.set(s.namespace, (list = []));
      list.push(s);
    }
  }

  /** See updateRouting(). */
  withRouting(next: ConfigState): MeshModel {
    const b = bucket(next.objects.values());
    // The Gateway API's routes become VirtualServices too (new objects each time: their virtual hosts are built again).
    addGatewayApi(b, this.domainSuffix);
    const policies = new PolicyIndex(b, this.domainSuffix, this.rootNamespace);
    return new Model(next.revision, this.#mesh(), this.services, { ...this.#indexes, policies });
  }

  #mesh(): MeshSettings {
    return { domainSuffix: this.domainSuffix, trustDomain: this.trustDomain, rootNamespace: this.rootNamespace, enableAutoMtls: this.enableAutoMtls };
  }

  /** See updateEndpoints(). */
  withEndpoints(next: ConfigState, change: EndpointChange): EndpointUpdate {
    const { inputs } = this.#indexes;
    const podNamespaces = new Set<string>();
    const podReadiness = new Map(inputs.podReady);
    for (const pod of change.pods.values()) {
      const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
      podNamespaces.add(pod.metadata.namespace ?? 'default');
      if (podReadiness.has(key)) podReadiness.set(key, podReady(pod));
    }
    // Pod readiness reaches endpoints only through selectors, which stay inside the namespace.
    const affected = this.services.filter((s) => podNamespaces.has(s.namespace) || (s.origin === 'Service' && change.services.has(`${s.namespace}/${s.name}`)));
    const keys = new Set(affected.filter((s) => s.origin === 'Service').map((s) => `${s.namespace}/${s.name}`));
    const slices: EndpointSlice[] = [];
    for (const o of next.objects.values()) {
      if (typeKey(o) !== 'EndpointSlice') continue;
      const svc = o.metadata.labels?.['kubernetes.io/service-name'];
      if (svc && keys.has(`${o.metadata.namespace ?? 'default'}/${svc}`)) slices.push(o as EndpointSlice);
    }
    const sliceIndex = new Map(inputs.slices);
    for (const key of keys) sliceIndex.delete(key);
    for (const [key, list] of slicesByService(slices)) sliceIndex.set(key, list);
    const nextInputs: EndpointInputs = { ...inputs, podReady: podReadiness, slices: sliceIndex };
    const rebuilt = buildEndpoints(affected, nextInputs);
    const endpoints: EndpointIndex = new Map(this.#eps);
    const changedHosts = new Set<string>();
    for (const svc of affected) {
      const after = rebuilt.get(svc.hostname);
      if (sameEndpoints(this.#eps.get(svc.hostname), after)) continue;
      changedHosts.add(svc.hostname);
      if (after) endpoints.set(svc.hostname, after);
      else endpoints.delete(svc.hostname);
    }
    const ambient = change.pods.size === 0 ? this.ambient : { ...this.ambient, pods: this.ambient.pods.map((p) => change.pods.get(objectKey(p)) ?? p) };
    const model = new Model(next.revision, this.#mesh(), this.services, { ...this.#indexes, endpoints, inputs: nextInputs, ambient });
    return { model, changedHosts };
  }

  service(hostname: string): MeshService | undefined {
    return this.#byHost.get(hostname);
  }

  endpoints(hostname: string, servicePort: number): readonly MeshEndpoint[] {
    return this.#eps.get(hostname)?.get(servicePort) ?? none;
  }

  workloadByIp(ip: string): Workload | undefined {
    return this.#wl.byIp.get(ip);
  }

  workload(namespace: string, name: string): Workload | undefined {
    return this.#wl.byName.get(`${namespace}/${name}`);
  }

  servicesForWorkload(namespace: string, labels: Readonly<Record<string, string>>): readonly MeshService[] {
    return (this.#selecting.get(namespace) ?? []).filter((s) => selectorMatches(s.selector, labels));
  }

  virtualServices(fromNamespace: string): readonly VirtualService[] {
    return this.#policies.virtualServices(fromNamespace);
  }

  destinationRule(hostname: string, fromNamespace: string, selected?: SelectedRules): DestinationRule | undefined {
    return this.#policies.destinationRule(hostname, fromNamespace, this.#byHost.get(hostname)?.namespace, selected);
  }

  selectedDestinationRules(namespace: string, labels: Readonly<Record<string, string>>): SelectedRules | undefined {
    return this.#policies.selectedDestinationRules(namespace, labels);
  }

  gatewaysFor(labels: Readonly<Record<string, string>>, namespace: string): readonly Gateway[] {
    // A Gateway converted from the Gateway API is served by its own pods, which istiod deploys in its namespace.
    return this.#gateways.filter((g) => selectorMatches(g.spec.selector, labels) && (!fromGatewayApi(g) || g.metadata.namespace === namespace));
  }

  sidecarFor(namespace: string, labels: Readonly<Record<string, string>>): Sidecar | undefined {
    return this.#policies.sidecarFor(namespace, labels);
  }

  peerAuthentications(namespace: string): readonly PeerAuthentication[] {
    return this.#policies.peerAuthentications(namespace);
  }

  authorizationPolicies(namespace: string): readonly AuthorizationPolicy[] {
    return this.#policies.authorizationPolicies(namespace);
  }

  serviceAccounts(hostname: string): readonly string[] {
    let hit = this.#accounts.get(hostname);
    if (!hit) {
      const ids = new Set<string>(this.#byHost.get(hostname)?.subjectAltNames ?? []);
      for (const list of this.#eps.get(hostname)?.values() ?? []) {
        for (const ep of list) if (ep.serviceAccount) ids.add(`spiffe://${this.trustDomain}/ns/${ep.namespace}/sa/${ep.serviceAccount}`);
      }
      this.#accounts.set(hostname, (hit = [...ids].sort()));
    }
    return hit;
  }

  peerAuthenticationsFor(namespace: string, labels: Readonly<Record<string, string>>): readonly PeerAuthentication[] {
    return this.#security.peerAuthenticationsFor(namespace, labels);
  }

  namespaceMtlsMode(namespace: string): MtlsMode | undefined {
    return this.#security.namespaceMtlsMode(namespace);
  }

  authorizationPoliciesFor(namespace: string, labels: Readonly<Record<string, string>>): readonly AuthorizationPolicy[] {
    return this.#security.authorizationPoliciesFor(namespace, labels);
  }

  requestAuthenticationsFor(namespace: string, labels: Readonly<Record<string, string>>): readonly RequestAuthentication[] {
    return this.#security.requestAuthenticationsFor(namespace, labels);
  }

  telemetriesFor(namespace: string, labels: Readonly<Record<string, string>>): ApplicableTelemetries | undefined {
    return this.#telemetry.empty ? undefined : this.#telemetry.applicable(namespace, labels);
  }

  credential(namespace: string, name: string): TlsCredential | undefined {
    return this.#credentials.get(`${namespace}/${name}`);
  }

  secretGrantedToGateways(gatewayNamespace: string, secretNamespace: string, secretName: string): boolean {
    return this.#grants.allowed({ fromGroup: GATEWAY_API_GROUP, fromKind: 'Gateway', fromNamespace: gatewayNamespace, toGroup: '', toKind: 'Secret', toNamespace: secretNamespace, toName: secretName });
  }
}
