import type { Pod, WorkloadEntry } from '../../config/objects.js';
import type { Workload } from './model.js';
import { byKey } from './labels.js';
import { localityFromLabels } from '../../xds/locality.js';

/** Pods and WorkloadEntries, indexed by IP, by namespace/name and by namespace. */
export interface WorkloadIndex {
  byIp: Map<string, Workload>;
  byName: Map<string, Workload>;
  byNamespace: Map<string, Workload[]>;
}

export function podToWorkload(pod: Pod): Workload | undefined {
  const address = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
  if (!address) return undefined;
  const ports: Record<string, number> = {};
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
  const labels = pod.metadata.labels ?? {};
  return {
    name: pod.metadata.name,
    namespace: pod.metadata.namespace ?? 'default',
    address,
    labels,
    serviceAccount: pod.spec?.serviceAccountName ?? 'default',
    kind: 'Pod',
    ports,
    locality: localityFromLabels(labels),
  };
}

export function workloadEntryToWorkload(we: WorkloadEntry): Workload | undefined {
  if (!we.spec.address) return undefined;
  return {
    name: we.metadata.name,
    namespace: we.metadata.namespace ?? 'default',
    address: we.spec.address,
    labels: we.spec.labels ?? {},
    serviceAccount: we.spec.serviceAccount ?? 'default',
    kind: 'WorkloadEntry',
    ports: we.spec.ports ?? {},
    locality: we.spec.locality,
  };
}

/** Ready as Kubernetes says: condition Ready=True, or phase Running when the pod reports no conditions. */
export function podReady(pod: Pod): boolean {
  const conditions = pod.status?.conditions;
  if (conditions && conditions.length > 0) return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  return pod.status?.phase === 'Running';
}

export function indexWorkloads(workloads: Workload[]): WorkloadIndex {
  workloads.sort(byKey((w) => `${w.kind}/${w.namespace}/${w.name}`));
  const idx: WorkloadIndex = { byIp: new Map(), byName: new Map(), byNamespace: new Map() };
  for (const w of workloads) {
    // Pods come before WorkloadEntries in the sort, so a pod wins an IP clash.
    if (!idx.byIp.has(w.address)) idx.byIp.set(w.address, w);
    const key = `${w.namespace}/${w.name}`;
    if (!idx.byName.has(key)) idx.byName.set(key, w);
    let list = idx.byNamespace.get(w.namespace);
    if (!list) idx.byNamespace.set(w.namespace, (list = []));
    list.push(w);
  }
  return idx;
}
