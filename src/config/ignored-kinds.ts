/**
 * Kinds the mesh does not act on. istiod never sees them as config (it
 * watches only what it uses), so a directory of ordinary manifests —
 * Deployments, ConfigMaps, RBAC, other projects' custom resources (cert-manager
 * Certificates, Prometheus ServiceMonitors, Argo Applications, as Istio's own
 * samples carry them) — must load without a problem for each of them (issue
 * 13). A misspelt kind in a Kubernetes, Istio or Gateway API group, and any
 * kind in a group that names Istio (a typo in the group), is still reported
 * as unknown; a typo in a Kubernetes group name is not (it reads as another
 * project's group).
 */

/** Built-in kinds by API group ('' is the core group, apiVersion "v1"). */
const builtIn: Readonly<Record<string, readonly string[]>> = {
  '': [
    'ConfigMap', 'Endpoints', 'LimitRange', 'ResourceQuota', 'PersistentVolume', 'PersistentVolumeClaim',
    'ReplicationController', 'PodTemplate', 'Event', 'Node', 'Binding', 'ComponentStatus',
  ],
  apps: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ControllerRevision'],
  batch: ['Job', 'CronJob'],
  autoscaling: ['HorizontalPodAutoscaler'],
  policy: ['PodDisruptionBudget', 'PodSecurityPolicy'],
  'networking.k8s.io': ['Ingress', 'IngressClass', 'NetworkPolicy', 'IPAddress', 'ServiceCIDR'],
  'rbac.authorization.k8s.io': ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
  'storage.k8s.io': ['StorageClass', 'VolumeAttachment', 'CSIDriver', 'CSINode', 'CSIStorageCapacity', 'VolumeAttributesClass'],
  'apiextensions.k8s.io': ['CustomResourceDefinition'],
  'admissionregistration.k8s.io': [
    'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
  ],
  'scheduling.k8s.io': ['PriorityClass'],
  'coordination.k8s.io': ['Lease'],
  'node.k8s.io': ['RuntimeClass'],
  'certificates.k8s.io': ['CertificateSigningRequest', 'ClusterTrustBundle'],
  'apiregistration.k8s.io': ['APIService'],
  'flowcontrol.apiserver.k8s.io': ['FlowSchema', 'PriorityLevelConfiguration'],
  'events.k8s.io': ['Event'],
  'discovery.k8s.io': [],
  'resource.k8s.io': ['ResourceClaim', 'ResourceClaimTemplate', 'DeviceClass', 'ResourceSlice'],
  // Read by istioctl install and the operator at install time, never by istiod.
  'install.istio.io': ['IstioOperator'],
};

/** The API group of an apiVersion: "apps/v1" → "apps", "v1" → "". */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * True for a standard Kubernetes kind of its own API group that Trellis does
 * not use, or any kind of another project's API group: the document is
 * skipped silently, as istiod ignores it. (Kinds Trellis acts on — Service,
 * Pod, Deployment, ... — are checked before this.)
 */
export function isIgnoredKind(apiVersion: string, kind: string): boolean {
  const group = apiGroup(apiVersion);
  const kinds = builtIn[group];
  if (kinds) return kinds.includes(kind);
  // Another project's API group (cert-manager's 2019 certmanager.k8s.io included): not mesh configuration.
  // A group naming Istio, and the Gateway API's, are mesh configuration: an unknown kind there is a mistake.
  return !group.includes('istio') && group !== 'gateway.networking.k8s.io';
}
