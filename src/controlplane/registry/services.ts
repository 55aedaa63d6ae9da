import type { Service, ServiceEntry } from '../../config/objects.js';
import { allocationKey, type AllocatedAddresses } from '../../config/service-entry-address.js';
import type { MeshService, MeshServicePort } from './model.js';
import { parseProtocol, servicePortProtocol } from './protocol.js';

/**
 * Kubernetes Service → MeshService. An ExternalName service becomes a DNS
 * service whose one endpoint is the external name (as in Istio); one without
 * an external name is skipped.
 */
export function serviceToMesh(svc: Service, domainSuffix: string): MeshService | undefined {
  const spec = svc.spec ?? {};
  const external = spec.type === 'ExternalName';
  if (external && !spec.externalName) return undefined;
  const namespace = svc.metadata.namespace ?? 'default';
  const ip = spec.clusterIP ?? spec.clusterIPs?.[0];
  const headless = ip === 'None';
  const ports: MeshServicePort[] = (spec.ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    targetPort: p.targetPort ?? p.port,
    protocol: servicePortProtocol(p),
  }));
  return {
    hostname: `${svc.metadata.name}.${namespace}.svc.${domainSuffix}`,
    name: svc.metadata.name,
    namespace,
    vip: ip && !headless && !external ? ip : undefined,
    ports: ports.sort((a, b) => a.port - b.port),
    labels: svc.metadata.labels ?? {},
    exportTo: exportToOf(svc.metadata.annotations?.['networking.istio.io/exportTo']),
    origin: 'Service',
    // Istio treats headless services as passthrough: the caller's destination is kept.
    resolution: external ? 'DNS' : headless ? 'NONE' : 'STATIC',
    // istiod marks an ExternalName service external: no auto mTLS towards it.
    meshExternal: external,
    selector: external ? undefined : spec.selector,
  };
}

function exportToOf(annotation: string | undefined): string[] {
  if (!annotation) return ['*'];
  const list = annotation.split(',').map((s) => s.trim()).filter(Boolean);
  return list.length ? list : ['*'];
}

/** ServiceEntry → one MeshService per host; `allocated` holds the auto-allocated addresses by namespace/host. */
export function serviceEntryToMesh(se: ServiceEntry, allocated: ReadonlyMap<string, AllocatedAddresses> = new Map()): MeshService[] {
  const spec = se.spec;
  const namespace = se.metadata.namespace ?? 'default';
  const ports: MeshServicePort[] = (spec.ports ?? []).map((p) => ({
    name: p.name,
    port: p.number,
    targetPort: p.targetPort ?? p.number,
    protocol: parseProtocol(p.protocol) ?? 'UNKNOWN',
  }));
  ports.sort((a, b) => a.port - b.port);
  const resolution = spec.resolution === 'DNS' || spec.resolution === 'DNS_ROUND_ROBIN' || spec.resolution === 'STATIC' ? spec.resolution : 'NONE';
  const vip = spec.addresses?.find((a) => !a.includes('/') || a.endsWith('/32'))?.replace(/\/32$/, '');
  return (spec.hosts ?? []).map((host) => {
    const auto = allocated.get(allocationKey(namespace, host));
    return {
      hostname: host,
      name: se.metadata.name,
      namespace,
      vip,
      ...(auto ? { autoAddresses: [auto.v4, auto.v6] } : {}),
      ports,
      labels: se.metadata.labels ?? {},
      exportTo: spec.exportTo && spec.exportTo.length ? spec.exportTo : ['*'],
      origin: 'ServiceEntry' as const,
      resolution,
      meshExternal: spec.location !== 'MESH_INTERNAL',
      selector: spec.workloadSelector?.labels,
      subjectAltNames: spec.subjectAltNames,
    };
  });
}
