/**
 * What should run, from the config, and what to change to get there (the
 * Deployment and ReplicaSet controllers' job, reduced): a Deployment wants
 * `replicas` pods of its current template, a bare Pod wants itself. Pure.
 *
 * A changed template is rolled out by replacement: the new pods are created
 * and the old ones removed in the same step (no surge limits, no waiting for
 * readiness: a local mesh, not a production rollout).
 */
import type { Deployment, PodTemplateSpec } from '../../config/deployment.js';
import type { AnyObject, Namespace, Pod } from '../../config/objects.js';
import { deploymentPodName, templateHash } from './pod-names.js';

export interface Workload {
  kind: 'Deployment' | 'Pod';
  namespace: string;
  name: string;
  /** pod-template-hash (Deployments) or the hash of the pod (bare Pods): a change means new pods. */
  hash: string;
  replicas: number;
  template: PodTemplateSpec;
}

/** A pod that exists (or is being created), as the reconciler sees it. */
export interface PodRef {
  namespace: string;
  name: string;
  owner: { kind: 'Deployment' | 'Pod'; name: string; hash: string };
}

export interface PodToCreate extends PodRef {
  workload: Workload;
}

export interface Changes {
  create: PodToCreate[];
  /** namespace/name of pods to remove. */
  remove: string[];
}

export function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

/** Deployments and bare Pods of the config, sorted by namespace/name. */
export function desiredWorkloads(objects: Iterable<AnyObject>): Workload[] {
  const out: Workload[] = [];
  for (const o of objects) {
    const namespace = o.metadata.namespace ?? 'default';
    if (o.kind === 'Deployment') {
      const d = o as Deployment;
      out.push({ kind: 'Deployment', namespace, name: d.metadata.name, hash: templateHash(d.spec.template), replicas: d.spec.replicas ?? 1, template: d.spec.template });
    } else if (o.kind === 'Pod') {
      const p = o as Pod;
      const template: PodTemplateSpec = { metadata: { labels: p.metadata.labels ?? {}, annotations: p.metadata.annotations ?? {} }, spec: p.spec ?? {} };
      out.push({ kind: 'Pod', namespace, name: p.metadata.name, hash: templateHash(template), replicas: 1, template });
    }
  }
  return out.sort((a, b) => (podKey(a) < podKey(b) ? -1 : podKey(a) > podKey(b) ? 1 : 0));
}

/** Namespace labels by name (a namespace that is used but not declared has none). */
export function namespaceLabels(objects: Iterable<AnyObject>): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const o of objects) if (o.kind === 'Namespace') out.set((o as Namespace).metadata.name, (o as Namespace).metadata.labels ?? {});
  return out;
}

/**
 * The pods to create and remove so that `running` becomes what `workloads`
 * want. `suffix` makes the random part of a new Deployment pod's name
 * (names already in use are skipped, bounded).
 */
export function reconcile(workloads: readonly Workload[], running: readonly PodRef[], suffix: () => string): Changes {
  const create: PodToCreate[] = [];
  const remove: string[] = [];
  const taken = new Set(running.map(podKey));
  const owned = new Map<string, PodRef[]>();
  for (const p of running) {
    const k = `${p.owner.kind}/${p.namespace}/${p.owner.name}`;
    let list = owned.get(k);
    if (!list) owned.set(k, (list = []));
    list.push(p);
  }
  const wanted = new Set<string>();
  for (const w of workloads) {
    const k = `${w.kind}/${w.namespace}/${w.name}`;
    wanted.add(k);
    const mine = owned.get(k) ?? [];
    const current = mine.filter((p) => p.owner.hash === w.hash);
    for (const p of mine) if (p.owner.hash !== w.hash) remove.push(podKey(p));
    // The newest pods go first when scaling down, as the ReplicaSet controller prefers.
    for (const p of current.slice(w.replicas).reverse()) remove.push(podKey(p));
    for (let i = current.length; i < w.replicas; i++) {
      const name = w.kind === 'Pod' ? w.name : freshName(w, taken, suffix);
      taken.add(`${w.namespace}/${name}`);
      create.push({ namespace: w.namespace, name, owner: { kind: w.kind, name: w.name, hash: w.hash }, workload: w });
    }
  }
  for (const [k, pods] of owned) if (!wanted.has(k)) for (const p of pods) remove.push(podKey(p));
  return { create, remove };
}

function freshName(w: Workload, taken: ReadonlySet<string>, suffix: () => string): string {
  for (let i = 0; i < 100; i++) {
    const name = deploymentPodName(w.name, w.hash, suffix());
    if (!taken.has(`${w.namespace}/${name}`)) return name;
  }
  // 27^5 names per template: a hundred misses in a row means the suffix source is broken.
  throw new Error(`no free pod name for Deployment ${w.namespace}/${w.name}`);
}
