/**
 * Least-privilege RBAC for the control plane's service account, verb by
 * verb from what the code does:
 *   - read (get/list/watch) exactly the kinds the Kubernetes source watches —
 *     Secrets of every namespace included, as istiod reads them: gateways'
 *     credentialName certificates, served only to router proxies of the
 *     Secret's own namespace;
 *   - create TokenReviews (the CA's authentication);
 *   - get and update its own MutatingWebhookConfiguration only (caBundle);
 *   - in its namespace: get the two CA Secrets by name and create Secrets
 *     (Kubernetes cannot limit create to a name), create Leases and
 *     get/update its own Lease by name.
 * Nothing is deleted, nothing else is written.
 */
import { watchedResources } from '../controlplane/sources/kubernetes/resources.js';
import { CONTROL_PLANE_SERVICE_ACCOUNT, DEFAULT_WEBHOOK_CONFIG, LEADER_LEASE, PLUGGED_IN_SECRET, SELF_SIGNED_SECRET } from '../kube/names.js';
import { partOf, type Manifest } from './manifest.js';

const READ = ['get', 'list', 'watch'];

export function clusterRoleName(namespace: string): string {
  return `trellis-controlplane-${namespace}`;
}

export function rbac(namespace: string): Manifest[] {
  const groups = [...new Set(watchedResources.map((r) => r.group))];
  const readRules = groups.map((group) => ({ apiGroups: [group], resources: watchedResources.filter((r) => r.group === group).map((r) => r.plural).sort(), verbs: READ }));
  const subject = { kind: 'ServiceAccount', name: CONTROL_PLANE_SERVICE_ACCOUNT, namespace };
  const name = clusterRoleName(namespace);
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: CONTROL_PLANE_SERVICE_ACCOUNT, namespace, labels: partOf } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels: partOf },
      rules: [
        ...readRules,
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], resourceNames: [DEFAULT_WEBHOOK_CONFIG], verbs: ['get', 'update'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels: partOf },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [subject],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'trellis-controlplane', namespace, labels: partOf },
      rules: [
        { apiGroups: [''], resources: ['secrets'], resourceNames: [PLUGGED_IN_SECRET, SELF_SIGNED_SECRET], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [LEADER_LEASE], verbs: ['get', 'update'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'trellis-controlplane', namespace, labels: partOf },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'trellis-controlplane' },
      subjects: [subject],
    },
  ];
}
