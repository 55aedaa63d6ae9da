/**
 * A pod's own settings for the containers the injector adds (Istio's
 * "customizing injection"): a container in the pod named like the sidecar
 * or the init container is not an app but an overlay, laid over the
 * generated container as a Kubernetes strategic merge would lay it —
 * objects merge field by field, env/volumeMounts/ports merge by their keys,
 * other lists and scalars replace. `image: auto` keeps the injector's image.
 * Istio's names are accepted too, so manifests written for Istio keep
 * their customisations. Pure.
 */
import type { Container, PodSpec } from './k8s-types.js';
import { isObject } from './k8s-types.js';
import { INIT_CONTAINER, ISTIO_PROXY_CONTAINER, PROXY_CONTAINER } from './names.js';

const PROXY_NAMES: readonly string[] = [PROXY_CONTAINER, ISTIO_PROXY_CONTAINER];
const INIT_NAMES: readonly string[] = [INIT_CONTAINER, 'istio-init'];

/** Kubernetes' patchMergeKey for the Container lists that merge instead of replacing. */
const MERGE_KEYS: Readonly<Record<string, string>> = { env: 'name', volumeMounts: 'mountPath', ports: 'containerPort' };

export interface Overrides {
  /** The pod's spec without the overlay containers. */
  spec: PodSpec;
  proxy?: Container;
  init?: Container;
}

const isOverlay = (names: readonly string[]) => (c: Container) => names.includes(c.name);

/** Separates the overlays from the pod's own containers (the first of each kind wins). */
export function takeOverrides(spec: PodSpec): Overrides {
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  const proxy = all.find(isOverlay(PROXY_NAMES));
  const init = all.find(isOverlay(INIT_NAMES));
  const keep = (c: Container) => !PROXY_NAMES.includes(c.name) && !INIT_NAMES.includes(c.name);
  const out: PodSpec = { ...spec, containers: spec.containers.filter(keep) };
  if (spec.initContainers) out.initContainers = spec.initContainers.filter(keep);
  return { spec: out, ...(proxy ? { proxy } : {}), ...(init ? { init } : {}) };
}

/** `base` with `overlay` laid over it; the name stays the base's. */
export function applyOverride(base: Container, overlay: Container | undefined): Container {
  if (!overlay) return base;
  const { name: _name, ...rest } = overlay;
  if (rest.image === 'auto') delete rest.image;
  return mergeObjects(base, rest, '') as unknown as Container;
}

function mergeObjects(base: Record<string, unknown>, overlay: Record<string, unknown>, field: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    if (v === undefined || v === null) continue;
    const b = out[k];
    const key = field === '' ? MERGE_KEYS[k] : undefined;
    if (isObject(b) && isObject(v)) out[k] = mergeObjects(b, v, k);
    else if (key && Array.isArray(b) && Array.isArray(v)) out[k] = mergeByKey(b, v, key);
    else out[k] = structuredClone(v);
  }
  return out;
}

function mergeByKey(base: unknown[], overlay: unknown[], key: string): unknown[] {
  const out = [...base];
  for (const item of overlay) {
    const at = isObject(item) ? out.findIndex((b) => isObject(b) && b[key] === item[key]) : -1;
    if (at >= 0) out[at] = mergeObjects(out[at] as Record<string, unknown>, item as Record<string, unknown>, key);
    else out.push(structuredClone(item));
  }
  return out;
}
