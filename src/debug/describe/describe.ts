/** `trellis describe pod POD`: the pod from the mesh's config (control plane or --config-dir), described. */
import type { Pod } from '../../config/objects.js';
import { findPod } from '../locator.js';
import type { MeshConfig } from '../mesh-config.js';
import type { Write } from '../output.js';
import { describePod } from './describe-pod.js';

/** The config's pods, as the locator's PodRefs (pod resolution and the "known pods" list). */
export function configPods(cfg: MeshConfig): Pod[] {
  return cfg.objects.filter((o): o is Pod => o.kind === 'Pod');
}

export function findConfigPod(cfg: MeshConfig, query: string, namespace?: string): Pod {
  const pods = configPods(cfg);
  const refs = pods.map((p) => ({ name: p.metadata.name, namespace: p.metadata.namespace ?? 'default' }));
  const ref = findPod(refs, query, `pods in the config of the ${cfg.source}`, namespace);
  return pods.find((p) => p.metadata.name === ref.name && (p.metadata.namespace ?? 'default') === ref.namespace)!;
}

export function describe(cfg: MeshConfig, query: string, namespace: string | undefined, write: Write): number {
  write(describePod(cfg, findConfigPod(cfg, query, namespace)));
  return 0;
}
