/**
 * ReferenceGrants: which cross-namespace references the Gateway API allows
 * (a route's backendRefs, a Gateway's certificateRefs). A reference from a
 * namespace to an object in another one is allowed only when a grant in the
 * target's namespace names the source's group, kind and namespace, and the
 * target's group, kind and (if it says) name.
 */
import type { ReferenceGrant } from '../../../config/gateway-api.js';

export interface Reference {
  readonly fromGroup: string;
  readonly fromKind: string;
  readonly fromNamespace: string;
  readonly toGroup: string;
  readonly toKind: string;
  readonly toNamespace: string;
  readonly toName: string;
}

export class ReferenceGrants {
  readonly #byNamespace = new Map<string, ReferenceGrant[]>();

  constructor(grants: readonly ReferenceGrant[]) {
    for (const g of grants) {
      const ns = g.metadata.namespace ?? 'default';
      const list = this.#byNamespace.get(ns) ?? [];
      list.push(g);
      this.#byNamespace.set(ns, list);
    }
  }

  /** Same-namespace references need no grant. */
  allowed(r: Reference): boolean {
    if (r.fromNamespace === r.toNamespace) return true;
    return (this.#byNamespace.get(r.toNamespace) ?? []).some(
      (g) =>
        g.spec.from.some((f) => f.group === r.fromGroup && f.kind === r.fromKind && f.namespace === r.fromNamespace) &&
        g.spec.to.some((t) => t.group === r.toGroup && t.kind === r.toKind && (t.name === undefined || t.name === '' || t.name === r.toName)),
    );
  }
}
