/** Objects and lists as kube-apiserver serialises them at the version a request asked for. */
import { apiVersion, type ResourceDef } from './kinds.js';
import type { StoredObject } from './store.js';

export function present(def: ResourceDef, version: string, obj: StoredObject): StoredObject {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return { apiVersion: apiVersion(def, version), kind: def.kind, ...rest };
}

/**
 * A list. Items of built-in kinds are encoded without apiVersion and kind
 * (the typed list's items carry an empty TypeMeta); custom resources are
 * unstructured and keep both.
 */
export function presentList(def: ResourceDef, version: string, rv: number, items: StoredObject[], cont?: { token: string; remaining: number }) {
  return {
    apiVersion: apiVersion(def, version),
    kind: `${def.kind}List`,
    metadata: { resourceVersion: String(rv), ...(cont ? { continue: cont.token, remainingItemCount: cont.remaining } : {}) },
    items: items.map((o) => {
      if (!def.builtIn) return present(def, version, o);
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    }),
  };
}
