/**
 * The CA's view of the pods, for the node authorizer: pods by namespace/name
 * and the (node, service account) pairs that have a pod — istiod's "node+sa"
 * index over its pod informer. Built from the control plane's accepted Pod
 * objects (the cluster's pods, or `trellis up`'s RUN/cluster/pods.yaml where
 * every pod is on the one node). Every pod counts, whatever its phase, as in
 * istiod: the question is where a service account may run, not whether it is
 * serving. Pure.
 */
import type { Pod } from '../../config/objects.js';
import type { WorkloadIdentity } from '../spiffe.js';
import type { PodDirectory, PodRecord } from './node-authorizer.js';

/** The API server's admission sets "default" when a pod names no service account; serviceAccount is the deprecated alias. */
function serviceAccountOf(pod: Pod): string {
  const spec = pod.spec as (Pod['spec'] & { serviceAccount?: string }) | undefined;
  return spec?.serviceAccountName || spec?.serviceAccount || 'default';
}

export class PodIndex implements PodDirectory {
  readonly #pods = new Map<string, PodRecord>();
  readonly #onNode = new Set<string>();

  constructor(pods: Iterable<Pod>) {
    for (const p of pods) {
      const namespace = p.metadata.namespace ?? 'default';
      const record: PodRecord = {
        serviceAccount: serviceAccountOf(p),
        ...(p.metadata.uid ? { uid: p.metadata.uid } : {}),
        ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
      };
      this.#pods.set(`${namespace}/${p.metadata.name}`, record);
      if (record.nodeName) this.#onNode.add(key(record.nodeName, { namespace, serviceAccount: record.serviceAccount }));
    }
  }

  pod(namespace: string, name: string): PodRecord | undefined {
    return this.#pods.get(`${namespace}/${name}`);
  }

  hasServiceAccountOn(node: string, id: WorkloadIdentity): boolean {
    return this.#onNode.has(key(node, id));
  }
}

// "/" cannot occur in a node, namespace or service-account name, so the key is unambiguous.
const key = (node: string, id: WorkloadIdentity) => `${node}/${id.namespace}/${id.serviceAccount}`;
