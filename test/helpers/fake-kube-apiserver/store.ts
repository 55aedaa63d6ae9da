/**
 * The double's storage, shaped like etcd behind kube-apiserver: one global
 * revision counter (every write takes the next number, which becomes the
 * object's resourceVersion), an event history that can be compacted (a
 * watch from before the compaction gets 410 Expired), and per-object
 * optimistic concurrency (an update naming an old resourceVersion gets 409
 * Conflict). What the API server adds on write is added here: uid,
 * creationTimestamp, generation (bumped when spec changes), a Namespace's
 * status.phase, a Secret's stringData folded into base64 data; a namespaced
 * object can only be created in a namespace that exists (NamespaceLifecycle).
 * Not modelled: defaulting of spec fields, finalizers and graceful deletion,
 * managedFields, admission webhooks.
 */
import { randomUUID } from 'node:crypto';
import { alreadyExists, badRequest, conflict, failure, invalid, notFound, tooOld } from './status.js';
import { defForKind, type ResourceDef } from './kinds.js';
import { checkWrite } from './write-checks.js';

export interface Meta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  [k: string]: unknown;
}
export interface StoredObject {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  [field: string]: unknown;
}
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StoreEvent {
  rv: number;
  type: EventType;
  def: ResourceDef;
  obj: StoredObject;
}

/** Kinds whose status is written only through their /status subresource (a write to the object itself keeps the old status). */
const STATUS_SUBRESOURCE: Readonly<Record<string, () => unknown>> = { Pod: () => ({ phase: 'Pending' }), Service: () => ({ loadBalancer: {} }) };

const keyOf = (def: ResourceDef, ns: string | undefined, name: string) => `${def.group}/${def.plural}/${ns ?? ''}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);

export class Store {
  /** The last revision written (etcd starts above 0). */
  rv = 1;
  /** Events at or below this revision are forgotten. */
  compactedRv = 0;
  readonly #objects = new Map<string, StoredObject>();
  readonly #history: StoreEvent[] = [];
  readonly #listeners = new Set<(e: StoreEvent) => void>();

  get(def: ResourceDef, ns: string | undefined, name: string): StoredObject {
    const o = this.#objects.get(keyOf(def, ns, name));
    if (!o) throw notFound(def, name);
    return clone(o);
  }

  /** Every object of a resource (in one namespace, or all), in etcd's key order, at the current revision. */
  list(def: ResourceDef, ns?: string): { rv: number; items: StoredObject[] } {
    const prefix = `${def.group}/${def.plural}/${ns === undefined ? '' : `${ns}/`}`;
    const items = [...this.#objects.entries()].filter(([k]) => k.startsWith(prefix)).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, o]) => clone(o));
    return { rv: this.rv, items };
  }

  create(def: ResourceDef, ns: string | undefined, body: StoredObject): StoredObject {
    const name = body.metadata?.name;
    if (typeof name !== 'string' || name === '') throw invalid(def, '', 'metadata.name: Required value: name or generateName is required');
    if (body.metadata.resourceVersion) throw failure(500, 'InternalError', 'resourceVersion should not be set on objects to be created');
    checkWrite(def, body);
    if (def.namespaced && !this.#objects.has(keyOf(defForKind('Namespace'), undefined, ns!))) throw notFound(defForKind('Namespace'), ns!);
    const key = keyOf(def, ns, name);
    if (this.#objects.has(key)) throw alreadyExists(def, name);
    const obj = clone(body);
    obj.metadata = { ...obj.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    if (def.namespaced) obj.metadata.namespace = ns;
    if (obj.spec !== undefined && !def.builtIn) obj.metadata.generation = 1;
    if (def.kind === 'Namespace') obj.status = { phase: 'Active' };
    const initialStatus = STATUS_SUBRESOURCE[def.kind];
    if (initialStatus) obj.status = initialStatus();
    return this.#write(def, key, 'ADDED', obj);
  }

  update(def: ResourceDef, ns: string | undefined, name: string, body: StoredObject): StoredObject {
    if (body.metadata?.name !== name) throw badRequest(`the name of the object (${String(body.metadata?.name)}) does not match the name on the URL (${name})`);
    const key = keyOf(def, ns, name);
    const old = this.#objects.get(key);
    if (!old) throw notFound(def, name);
    // An update without resourceVersion is unconditional, as kube-apiserver allows for these kinds.
    const rv = body.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(def, name);
    checkWrite(def, body);
    const obj = clone(body);
    obj.metadata = { ...obj.metadata, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp, namespace: old.metadata.namespace };
    if (old.metadata.generation !== undefined) {
      obj.metadata.generation = old.metadata.generation + (JSON.stringify(old.spec) === JSON.stringify(obj.spec) ? 0 : 1);
    }
    if (def.kind === 'Namespace' || STATUS_SUBRESOURCE[def.kind]) obj.status = old.status;
    return this.#write(def, key, 'MODIFIED', obj);
  }

  /** PUT .../NAME/status: only the status changes (same resourceVersion rules as an update). */
  updateStatus(def: ResourceDef, ns: string | undefined, name: string, body: StoredObject): StoredObject {
    if (!STATUS_SUBRESOURCE[def.kind]) throw notFound(def, `${name}/status`);
    const key = keyOf(def, ns, name);
    const old = this.#objects.get(key);
    if (!old) throw notFound(def, name);
    const rv = body.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(def, name);
    return this.#write(def, key, 'MODIFIED', { ...clone(old), status: clone(body.status) });
  }

  delete(def: ResourceDef, ns: string | undefined, name: string): StoredObject {
    const key = keyOf(def, ns, name);
    const old = this.#objects.get(key);
    if (!old) throw notFound(def, name);
    this.#objects.delete(key);
    // The DELETED event carries the object with the revision of its deletion, as etcd's watch reports it.
    const gone = clone(old);
    gone.metadata.resourceVersion = String(++this.rv);
    this.#emit({ rv: this.rv, type: 'DELETED', def, obj: gone });
    return clone(gone);
  }

  /** Events of `def` after revision `rv`, or a 410 Expired failure when they were compacted away. */
  eventsSince(def: ResourceDef, rv: number): StoreEvent[] {
    if (rv < this.compactedRv) throw tooOld(rv, this.compactedRv + 1);
    return this.#history.filter((e) => e.def === def && e.rv > rv).map((e) => ({ ...e, obj: clone(e.obj) }));
  }

  /** Forgets the history up to now, as etcd's compaction does. */
  compact(): void {
    this.compactedRv = this.rv;
    this.#history.length = 0;
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #write(def: ResourceDef, key: string, type: EventType, obj: StoredObject): StoredObject {
    obj.metadata.resourceVersion = String(++this.rv);
    delete obj.apiVersion;
    delete obj.kind;
    this.#objects.set(key, obj);
    this.#emit({ rv: this.rv, type, def, obj: clone(obj) });
    return clone(obj);
  }

  #emit(e: StoreEvent): void {
    this.#history.push(e);
    for (const fn of this.#listeners) fn({ ...e, obj: clone(e.obj) });
  }
}
