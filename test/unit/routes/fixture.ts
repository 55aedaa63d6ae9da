/**
 * A hand-built MeshModel for route translation tests: services, YAML
 * VirtualServices and DestinationRules, nothing else. Independent of the
 * registry implementation on purpose.
 */
import { parseAllDocuments } from 'yaml';
import type { DestinationRule, VirtualService } from '../../../src/config/objects.js';
import type { MeshModel, MeshService, MeshServicePort, Protocol } from '../../../src/controlplane/registry/model.js';
import type { RouteScope } from '../../../src/controlplane/translate/routes/index.js';
import { ambientSource } from '../../../src/controlplane/registry/ambient-source.js';

export const Domain = 'cluster.local';

export function fqdn(name: string, ns = 'default'): string {
  return `${name}.${ns}.svc.${Domain}`;
}

/** A Kubernetes service; ports as [port, protocol] pairs. */
export function service(name: string, ns: string, vip: string | undefined, ports: [number, Protocol][]): MeshService {
  const mp: MeshServicePort[] = ports.map(([port, protocol]) => ({ name: `${protocol.toLowerCase()}-${port}`, port, targetPort: port, protocol }));
  return { hostname: fqdn(name, ns), name, namespace: ns, vip, ports: mp, labels: {}, exportTo: ['*'], origin: 'Service', resolution: 'STATIC', meshExternal: false };
}

/** A ServiceEntry host (no short names). */
export function external(hostname: string, ports: [number, Protocol][]): MeshService {
  return { ...service('x', 'default', undefined, ports), hostname, name: hostname, origin: 'ServiceEntry', resolution: 'DNS', meshExternal: true };
}

/** VirtualServices and DestinationRules from YAML, in document order (= precedence). */
export function parseConfig(yamlText: string): { vs: VirtualService[]; dr: DestinationRule[] } {
  const docs = parseAllDocuments(yamlText).map((d) => d.toJS() as VirtualService | DestinationRule).filter((d) => d !== null);
  for (const d of docs) d.metadata.namespace ??= 'default';
  return {
    vs: docs.filter((d): d is VirtualService => d.kind === 'VirtualService'),
    dr: docs.filter((d): d is DestinationRule => d.kind === 'DestinationRule'),
  };
}

function visible(exportTo: string[] | undefined, owner: string, from: string): boolean {
  if (exportTo === undefined || exportTo.length === 0) return true;
  return exportTo.includes('*') || exportTo.includes(from) || (exportTo.includes('.') && owner === from);
}

export function fakeModel(services: MeshService[], yamlText = ''): MeshModel {
  const { vs, dr } = parseConfig(yamlText);
  const sorted = [...services].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  return {
    revision: 1,
    domainSuffix: Domain,
    trustDomain: Domain,
    rootNamespace: 'istio-system',
    enableAutoMtls: true,
    services: sorted,
    service: (h) => sorted.find((s) => s.hostname === h),
    endpoints: () => [],
    workloadByIp: () => undefined,
    workload: () => undefined,
    servicesForWorkload: () => [],
    virtualServices: (from) => vs.filter((v) => visible(v.spec.exportTo, v.metadata.namespace!, from)),
    destinationRule: (host, from) =>
      dr.find((d) => d.spec.host === host && d.metadata.namespace === from) ?? dr.find((d) => d.spec.host === host),
    selectedDestinationRules: () => undefined,
    sidecarFor: () => undefined,
    peerAuthentications: () => [],
    authorizationPolicies: () => [],
    serviceAccounts: () => [],
    peerAuthenticationsFor: () => [],
    namespaceMtlsMode: () => undefined,
    authorizationPoliciesFor: () => [],
    requestAuthenticationsFor: () => [],
    gatewaysFor: () => [],
    telemetriesFor: () => undefined,
    gatewayApiFindings: [],
    credential: () => undefined,
    secretGrantedToGateways: () => false,
    ambient: ambientSource([], [], []),
  };
}

export function scopeOf(model: MeshModel, namespace = 'default', labels?: Record<string, string>): RouteScope {
  const node = labels === undefined ? undefined : {
    id: `sidecar~10.0.0.9~client.${namespace}~${namespace}.svc.${Domain}`,
    type: 'sidecar' as const,
    ipAddresses: ['10.0.0.9'],
    podName: 'client',
    namespace,
    dnsDomain: `${namespace}.svc.${Domain}`,
    metadata: {},
    labels,
    generator: 'envoy' as const,
  };
  return { model, namespace, services: model.services, ...(node ? { node } : {}) };
}

/** The usual cast: reviews (HTTP 9080, two VIP ports), ratings, a TCP db, in "default". */
export function bookinfo(yamlText = '', extra: MeshService[] = []): MeshModel {
  return fakeModel(
    [
      service('reviews', 'default', '10.96.0.20', [[9080, 'HTTP']]),
      service('ratings', 'default', '10.96.0.21', [[9080, 'HTTP'], [9090, 'GRPC']]),
      service('details', 'other', '10.96.0.22', [[9080, 'HTTP']]),
      service('mongo', 'default', '10.96.0.30', [[27017, 'TCP']]),
      ...extra,
    ],
    yamlText,
  );
}
