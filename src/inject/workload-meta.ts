/**
 * Which workload a pod belongs to (Istio's GetDeployMetaFromPod): the
 * workload name feeds ISTIO_META_WORKLOAD_NAME, ISTIO_META_OWNER and the
 * canonical-name label. kube-inject knows the workload it is reading; the
 * webhook sees only the pod and follows its controller reference.
 */
import type { ObjectMeta } from './k8s-types.js';
import { LABEL } from './names.js';

export interface WorkloadMeta {
  name: string;
  namespace: string;
  kind: string;
  apiVersion: string;
}

const CRON_JOB_NAME = /^(.+)-\d{8,10}$/;

/** The workload behind a pod, from its generated name and controller reference. */
export function workloadFromPod(meta: ObjectMeta, namespace: string): WorkloadMeta {
  const out: WorkloadMeta = { name: meta.name ?? '', namespace, kind: 'Pod', apiVersion: 'v1' };
  const ref = meta.generateName ? meta.ownerReferences?.find((r) => r.controller === true) : undefined;
  if (ref) {
    out.apiVersion = ref.apiVersion ?? '';
    out.kind = ref.kind ?? '';
    out.name = ref.name ?? '';
    const hash = meta.labels?.[LABEL.podTemplateHash];
    const cron = CRON_JOB_NAME.exec(out.name);
    if (out.kind === 'ReplicaSet' && hash && out.name.endsWith(hash)) {
      out.name = out.name.slice(0, -(hash.length + 1));
      out.kind = 'Deployment';
    } else if (out.kind === 'ReplicationController' && meta.labels?.deploymentconfig) {
      out.name = meta.labels.deploymentconfig;
      out.kind = 'DeploymentConfig';
    } else if (out.kind === 'Job' && cron) {
      out.name = cron[1]!;
      out.kind = 'CronJob';
      out.apiVersion = 'batch/v1';
    }
  }
  if (out.name === '') out.name = meta.name ?? '';
  return out;
}

/** The workload name the proxy reports (the service.istio.io/workload-name label wins). */
export function workloadName(meta: ObjectMeta, w: WorkloadMeta): string {
  return meta.labels?.[LABEL.workloadName] ?? w.name;
}
