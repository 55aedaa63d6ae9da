/**
 * NDS: the name table a sidecar's agent answers DNS from (Istio's DNS
 * proxying), built as istiod's BuildNameTable builds it from the services a
 * proxy sees: a service with a VIP (a cluster IP, a ServiceEntry address, or
 * — for a proxy that captures DNS — its auto-allocated address) is
 * answered with it; a service without one (headless, resolution NONE) with
 * the addresses of its ready endpoints on its first port; a service with
 * neither is left to the upstream resolvers. Kubernetes Services carry
 * their name and namespace so the agent also answers the short forms.
 * Pure: the same services give the same table, hosts in sorted order.
 */
import { create } from '@bufbuild/protobuf';
import { NameTableSchema, NameTable_NameInfoSchema, type NameTable, type NameTable_NameInfo } from '../../gen/networking/nds/v1/nds_pb.js';
import type { MeshModel, MeshService } from '../registry/model.js';

/** The registries istiod names: Kubernetes Services, and ServiceEntries ("External"). */
const REGISTRY = { Service: 'Kubernetes', ServiceEntry: 'External' } as const;

/**
 * The addresses answered for one service as this proxy sees it. An
 * auto-allocated VIP is the one of the proxy's family only (istiod answers
 * both): an IPv6 answer to an IPv4-only pod would send the app to an address
 * it has no route to and no capture rule for.
 */
export function serviceAddresses(model: MeshModel, svc: MeshService): string[] {
  if (svc.vip !== undefined) return [svc.vip];
  const first = svc.ports[0];
  if (svc.resolution !== 'NONE' || first === undefined) return [];
  const ips = new Set<string>();
  for (const e of model.endpoints(svc.hostname, first.port)) if (e.ready) ips.add(e.address);
  return [...ips].sort();
}

/** `services`: as the proxy's scope sees them (auto-allocated VIPs set for a proxy that captures DNS, translate/auto-addresses.ts). */
export function buildNameTable(model: MeshModel, services: readonly MeshService[]): NameTable {
  const table: Record<string, NameTable_NameInfo> = {};
  for (const svc of [...services].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0))) {
    const ips = serviceAddresses(model, svc);
    if (ips.length === 0) continue;
    const k8s = svc.origin === 'Service';
    table[svc.hostname] = create(NameTable_NameInfoSchema, {
      ips,
      registry: REGISTRY[svc.origin],
      ...(k8s ? { shortname: svc.name, namespace: svc.namespace } : {}),
    });
  }
  return create(NameTableSchema, { table });
}
