/**
 * A pod as istiod sends it in the workload API: its Workload message, named
 * by its uid "CLUSTER//Pod/NAMESPACE/NAME". Ambient pods only (enrollment.ts),
 * so the tunnel is always HBONE.
 */
import { create } from '@bufbuild/protobuf';
import type { Pod } from '../../../config/objects.js';
import {
  type GatewayAddress,
  LocalitySchema,
  PortListSchema,
  PortSchema,
  TunnelProtocol,
  WorkloadSchema,
  WorkloadStatus,
  WorkloadType,
  type PortList,
  type Workload,
} from '../../../gen/workloadapi/workload_pb.js';
import type { ObjectMeta as InjectMeta } from '../../../inject/k8s-types.js';
import { canonicalName, canonicalRevision } from '../../../inject/pod-metadata.js';
import { workloadFromPod, workloadName } from '../../../inject/workload-meta.js';
import { splitLocality } from '../../../xds/locality.js';
import type { MeshService } from '../../registry/model.js';
import { podReady, podToWorkload } from '../../registry/workloads.js';
import { ipBytes } from './ip-bytes.js';
import { serviceResourceName, servicePorts } from './services.js';

/** istiod's default cluster id (a single-cluster mesh). */
export const CLUSTER_ID = 'Kubernetes';

export function podUid(namespace: string, name: string): string {
  return `${CLUSTER_ID}//Pod/${namespace}/${name}`;
}

export interface WorkloadContext {
  trustDomain: string;
  /** The ambient services (of its namespace) whose selector picks the pod. */
  services: readonly MeshService[];
  /** "namespace/name" of the selector-scoped Authorizations that apply, sorted. */
  policies: readonly string[];
  /** The waypoint its workload-addressed traffic goes through (waypoints.ts). */
  waypoint?: GatewayAddress;
}

/** Undefined for a pod without an address, or one that has finished (istiod skips both). */
export function workloadMessage(pod: Pod, ctx: WorkloadContext): Workload | undefined {
  const w = podToWorkload(pod);
  if (!w || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return undefined;
  const ips = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip) : [w.address];
  const addresses = ips.map(ipBytes).filter((b): b is Uint8Array => b !== undefined);
  if (addresses.length === 0) return undefined;
  // kube-inject's reading of the owner (generated names, controller references): the same workload name as a sidecar reports.
  const meta = pod.metadata as InjectMeta;
  const owner = workloadFromPod(meta, w.namespace);
  const { region, zone, subZone } = splitLocality(w.locality);
  return create(WorkloadSchema, {
    uid: podUid(w.namespace, w.name),
    name: w.name,
    namespace: w.namespace,
    addresses,
    tunnelProtocol: TunnelProtocol.HBONE,
    // istiod elides the default trust domain.
    trustDomain: ctx.trustDomain === 'cluster.local' ? '' : ctx.trustDomain,
    serviceAccount: w.serviceAccount,
    ...(ctx.waypoint ? { waypoint: ctx.waypoint } : {}),
    node: pod.spec?.nodeName ?? '',
    canonicalName: canonicalName(w.labels, owner),
    canonicalRevision: canonicalRevision(w.labels),
    workloadType: WorkloadType.POD,
    workloadName: workloadName(meta, owner),
    services: servicesOf(ctx.services, w.ports ?? {}),
    authorizationPolicies: [...ctx.policies],
    status: podReady(pod) ? WorkloadStatus.HEALTHY : WorkloadStatus.UNHEALTHY,
    clusterId: CLUSTER_ID,
    ...(w.locality ? { locality: create(LocalitySchema, { region, zone, subzone: subZone }) } : {}),
  });
}

/** Service ports with this pod's target port; a named target port the pod lacks leaves the port out, as istiod does. */
function servicesOf(services: readonly MeshService[], named: Readonly<Record<string, number>>): Record<string, PortList> {
  const out: Record<string, PortList> = {};
  for (const svc of services) {
    const base = servicePorts(svc);
    const ports = [];
    for (const [i, p] of svc.ports.entries()) {
      const target = typeof p.targetPort === 'number' ? p.targetPort : named[p.targetPort];
      if (target === undefined) continue;
      ports.push(create(PortSchema, { servicePort: p.port, targetPort: target, appProtocol: base[i]!.appProtocol }));
    }
    out[serviceResourceName(svc.namespace, svc.hostname)] = create(PortListSchema, { ports });
  }
  return out;
}
