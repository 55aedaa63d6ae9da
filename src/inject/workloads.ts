/**
 * kube-inject's view of Kubernetes objects: where the pod is in each
 * workload kind (Pod; spec.template of Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, ReplicationController, Job and OpenShift's DeploymentConfig;
 * spec.jobTemplate.spec.template of CronJob; every item of a List) and
 * which workload it belongs to. Anything else passes through unchanged. Pure.
 */
import type { InjectionConfig } from './config.js';
import { decide, type Decision } from './decision.js';
import { injectPod } from './inject-pod.js';
import { isObject, type ObjectMeta, type PodLike, type PodSpec } from './k8s-types.js';
import { workloadFromPod, type WorkloadMeta } from './workload-meta.js';

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'DeploymentConfig']);

export interface ObjectResult {
  object: unknown;
  /** One line per pod template that was not injected, and why (istioctl's "Skipping injection because ..."). */
  skipped: string[];
  /** Every pod template's decision, in document order. */
  decisions: { workload: string; decision: Decision }[];
}

/** Where an object's pod is: a getter and a setter of the template, and the workload it belongs to. */
interface PodSite {
  template: { metadata?: ObjectMeta; spec?: PodSpec };
  workload: WorkloadMeta;
  put(t: { metadata: ObjectMeta; spec: PodSpec }): void;
}

function podSite(o: Record<string, unknown>): PodSite | undefined {
  const kind = typeof o.kind === 'string' ? o.kind : '';
  const meta = (isObject(o.metadata) ? o.metadata : {}) as ObjectMeta;
  const owner: WorkloadMeta = { name: meta.name ?? '', namespace: meta.namespace ?? '', kind, apiVersion: typeof o.apiVersion === 'string' ? o.apiVersion : '' };
  if (kind === 'Pod' && isObject(o.spec)) {
    return { template: o as PodLike, workload: workloadFromPod(meta, meta.namespace ?? ''), put: (t) => Object.assign(o, t) };
  }
  const spec = isObject(o.spec) ? o.spec : undefined;
  let holder: Record<string, unknown> | undefined;
  if (TEMPLATE_KINDS.has(kind)) holder = spec;
  else if (kind === 'CronJob' && spec && isObject(spec.jobTemplate) && isObject(spec.jobTemplate.spec)) holder = spec.jobTemplate.spec;
  if (!holder || !isObject(holder.template) || !isObject(holder.template.spec)) return undefined;
  const h = holder;
  return { template: h.template as PodSite['template'], workload: owner, put: (t) => { h.template = { ...(h.template as object), ...t }; } };
}

/** Every pod template in an object (a List's items included), with its workload's display name and namespace. */
export function podTemplates(o: unknown): { workload: string; namespace: string; metadata: ObjectMeta; spec: PodSpec }[] {
  if (!isObject(o)) return [];
  if (o.kind === 'List' && Array.isArray(o.items)) return o.items.flatMap(podTemplates);
  const site = podSite(o);
  if (!site) return [];
  const metadata = site.template.metadata ?? {};
  const namespace = metadata.namespace || site.workload.namespace;
  return [{ workload: displayName(site.workload, metadata, namespace), namespace, metadata, spec: site.template.spec as PodSpec }];
}

function displayName(w: WorkloadMeta, metadata: ObjectMeta, namespace: string): string {
  return `${w.kind} "${namespace ? `${namespace}/` : ''}${metadata.name || w.name}"`;
}

/** kube-inject of one object (deep-copied first); throws INJECT_INVALID as Istio refuses malformed annotations. */
export function injectObject(input: unknown, cfg: InjectionConfig): ObjectResult {
  const object: unknown = structuredClone(input);
  const result: ObjectResult = { object, skipped: [], decisions: [] };
  visit(object, cfg, result);
  return result;
}

function visit(o: unknown, cfg: InjectionConfig, out: ObjectResult): void {
  if (!isObject(o)) return;
  if (o.kind === 'List' && Array.isArray(o.items)) {
    for (const item of o.items) visit(item, cfg, out);
    return;
  }
  const site = podSite(o);
  if (!site) return;
  const w = site.workload;
  const metadata = { ...(site.template.metadata ?? {}) };
  const namespace = metadata.namespace || w.namespace;
  const name = displayName(w, metadata, namespace);
  const spec = site.template.spec as PodSpec;
  const decision = decide({ metadata, spec, namespace, mode: 'kube-inject' }, cfg);
  out.decisions.push({ workload: name, decision });
  if (!decision.inject) {
    out.skipped.push(`Skipping injection of ${name}: ${decision.reason}`);
    return;
  }
  const pod = injectPod({ metadata, spec }, { cfg, namespace, workload: w });
  site.put({ metadata: pod.metadata, spec: pod.spec });
}
