/**
 * `trellis install` and `trellis uninstall`: the objects, pure (options in,
 * manifests out); the CLI renders them as YAML for `kubectl apply -f -`.
 * Order is apply order: CRDs and the namespace first, the webhook last, so
 * the API server never calls a webhook whose service is not there yet.
 */
import { istioCrds } from './crds.js';
import { controlPlane } from './controlplane-deployment.js';
import { rbac } from './rbac.js';
import { injectionWebhook, type FailurePolicy } from './webhook.js';
import { partOf, type Manifest } from './manifest.js';
import { LEADER_LEASE, SELF_SIGNED_SECRET } from '../kube/names.js';

export interface InstallOptions {
  namespace: string;
  failurePolicy: FailurePolicy;
  image: string;
  replicas: number;
  /** The mesh root (PEM) for the webhook's caBundle; absent: the leader sets it at run time. */
  caBundlePem?: string;
}

export function installManifests(o: InstallOptions): Manifest[] {
  return [
    ...istioCrds(),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace, labels: partOf } },
    ...rbac(o.namespace),
    ...controlPlane(o.namespace, o.image, o.replicas),
    injectionWebhook(o.namespace, o.failurePolicy, o.caBundlePem),
  ];
}

/**
 * What to delete, in reverse order of installing: the webhook first (so pod
 * creation never waits on a control plane that is going away). Without
 * `purge`, the CRDs (and with them every Istio object users wrote), the
 * namespace and what the control plane made at run time — the CA Secret (the mesh's root: workloads' certificates
 * chain to it) and the leader Lease — are kept.
 */
export function uninstallManifests(o: Pick<InstallOptions, 'namespace'> & { purge: boolean }): Manifest[] {
  const all = installManifests({ namespace: o.namespace, failurePolicy: 'Fail', image: 'unused', replicas: 1 }).reverse();
  const kept = new Set(['CustomResourceDefinition', 'Namespace']);
  const objects = all.filter((m) => o.purge || !kept.has(m.kind)).map(({ apiVersion, kind, metadata }) => ({ apiVersion, kind, metadata: { name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}) } }));
  if (!o.purge) return objects;
  const runtime = [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: SELF_SIGNED_SECRET, namespace: o.namespace } },
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: LEADER_LEASE, namespace: o.namespace } },
  ];
  const ns = objects.findIndex((m) => m.kind === 'Namespace');
  return [...objects.slice(0, ns), ...runtime, ...objects.slice(ns)];
}
