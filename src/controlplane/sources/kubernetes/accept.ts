/**
 * From the informers' raw objects to accepted config: each object is
 * validated with the directory source's validators (src/config/validate/);
 * an invalid one is reported and skipped, and if an earlier version of the
 * same object was accepted, that last good version stays in service.
 *
 * Problems have no file and line: `file` is a locator,
 * "kubernetes:KIND/NAMESPACE/NAME" ("kubernetes:KIND/NAME" for cluster-scoped
 * kinds), and `line` is 0; the reason carries the field path
 * ("VirtualService default/reviews: spec.http[0].route[0].weight: ...").
 *
 * Built-in kinds are pruned to the fields Trellis knows before validation
 * (prune.ts): the API server validated them already. Istio's kinds are not:
 * the CRDs `trellis install` writes accept any spec, so this is where a typo
 * in a VirtualService is caught, as in a file.
 */
import { kindSchemas, validateObject, type ValidatedDocument } from '../../../config/validate/index.js';
import { pruneUnknown } from '../../../config/validate/prune.js';
import { clusterScoped, objectKey, typeKey, type AnyObject, type Kind } from '../../../config/objects.js';
import type { ConfigProblem } from '../../../config/config-problem.js';
import type { RawObject } from './informer.js';

const BUILT_IN: ReadonlySet<string> = new Set(['Namespace', 'Service', 'Pod', 'ServiceAccount', 'Secret', 'EndpointSlice']);

/** "kubernetes:Service/default/reviews" or "kubernetes:Namespace/default". */
export function locator(kind: string, namespace: string | undefined, name: string): string {
  return `kubernetes:${kind}/${namespace === undefined ? '' : `${namespace}/`}${name}`;
}

export interface Accepted {
  /** By objectKey, sorted. */
  readonly objects: ReadonlyMap<string, AnyObject>;
  /** Sorted by locator. */
  readonly problems: readonly ConfigProblem[];
}

interface Seen {
  resourceVersion: string | undefined;
  doc: ValidatedDocument;
}

/** Keeps each object's validation (until its resourceVersion changes) and its last good version. */
export class ObjectAcceptor {
  readonly #seen = new Map<string, Seen>();
  readonly #lastGood = new Map<string, AnyObject>();

  accept(raws: Iterable<RawObject>): Accepted {
    const objects = new Map<string, AnyObject>();
    const problems: ConfigProblem[] = [];
    const present = new Set<string>();
    for (const raw of raws) {
      const namespace = clusterScoped.has(typeKey(raw)) ? undefined : raw.metadata.namespace;
      const key = objectKey({ apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name: raw.metadata.name, namespace } });
      present.add(key);
      const doc = this.#validate(key, raw);
      if (doc.object) {
        this.#lastGood.set(key, doc.object);
        objects.set(key, doc.object);
        continue;
      }
      const kept = this.#lastGood.get(key);
      if (kept) objects.set(key, kept);
      const note = kept ? ` (keeping the previous version, resourceVersion ${kept.metadata.resourceVersion ?? '?'})` : '';
      for (const p of doc.problems) problems.push({ ...p, reason: p.reason + note });
    }
    for (const key of [...this.#seen.keys()]) {
      if (present.has(key)) continue;
      this.#seen.delete(key);
      this.#lastGood.delete(key);
    }
    const sorted = new Map([...objects.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    return { objects: sorted, problems };
  }

  #validate(key: string, raw: RawObject): ValidatedDocument {
    const rv = raw.metadata.resourceVersion;
    const seen = this.#seen.get(key);
    if (seen && rv !== undefined && seen.resourceVersion === rv) return seen.doc;
    const value = normalize(raw);
    const origin = { file: locator(raw.kind, raw.metadata.namespace, raw.metadata.name), line: 0 };
    const doc = validateObject(value, origin, () => 0);
    this.#seen.set(key, { resourceVersion: rv, doc });
    return doc;
  }
}

/** The object without managedFields (istiod drops them too), built-in kinds pruned to what Trellis reads. */
function normalize(raw: RawObject): unknown {
  const { managedFields: _dropped, ...metadata } = raw.metadata;
  const value = { ...raw, metadata };
  return BUILT_IN.has(raw.kind) ? pruneUnknown(value, kindSchemas[raw.kind as Kind]) : value;
}
