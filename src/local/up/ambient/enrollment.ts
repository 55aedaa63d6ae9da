/**
 * Which of `trellis up`'s pods are ambient, decided by the control plane's
 * own rule (translate/ambient/enrollment.ts: the namespace or pod label
 * istio.io/dataplane-mode, never a pod with a sidecar), so that the node
 * proxy serves exactly the pods the control plane describes to it. Pure.
 */
import { podAmbient } from '../../../controlplane/translate/ambient/enrollment.js';
import { ambientSource } from '../../../controlplane/registry/ambient-source.js';

export interface PodMetadata {
  namespace: string;
  name: string;
  /** After injection: an injected pod carries sidecar.istio.io/status, which keeps it out. */
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

export function isAmbientPod(pod: PodMetadata, namespaceLabels: Readonly<Record<string, string>>): boolean {
  // Only the namespace's labels are read for one pod's decision.
  const source = ambientSource([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: pod.namespace, labels: { ...namespaceLabels } }, spec: {} }], [], []);
  return podAmbient(source, { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.name, namespace: pod.namespace, labels: { ...pod.labels }, annotations: { ...pod.annotations } }, spec: {} });
}
