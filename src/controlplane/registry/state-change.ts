import type { AnyObject, EndpointSlice, Pod } from '../../config/objects.js';
import { sameObjectContent, typeKey } from '../../config/objects.js';

/*
 * What kind of change lies between two accepted states, for the pushes that
 * need less than a full recompute: endpoint-only (EDS) and routing-only.
 */

/**
 * A change between two accepted states that touches only endpoints: every
 * changed object is an EndpointSlice (added, updated or deleted) or a Pod
 * whose status changed and nothing else that the model reads — its readiness.
 * What istiod turns into an EDS-only push. Anything else (a Pod added,
 * deleted, relabelled or given a new IP; any Service or Istio object) is a
 * full push: it can move proxies between scopes or change their clusters.
 */
export interface EndpointChange {
  /** "namespace/service" of every changed slice, before and after (the label kubernetes.io/service-name). */
  readonly services: ReadonlySet<string>;
  /** The changed Pods, by objectKey, as they are after the change. */
  readonly pods: ReadonlyMap<string, Pod>;
}

const SLICE = 'EndpointSlice';
const POD = 'Pod';

/**
 * What lies between two states, in one pass: endpoint-only (an empty change
 * too), routing-only — every changed object a VirtualService, which rebuilds
 * routes and listeners and keeps clusters and endpoints (registry/build-model.ts
 * updateRouting) — or undefined: anything else, a full push.
 */
export function classifyChange(before: ReadonlyMap<string, AnyObject>, after: ReadonlyMap<string, AnyObject>): { endpoints: EndpointChange } | { routing: true } | undefined {
  const services = new Set<string>();
  const pods = new Map<string, Pod>();
  let routing = false;
  for (const { key, old, now } of stateChanges(before, after)) {
    const kind = typeKey((now ?? old)!);
    if (kind === SLICE) {
      for (const s of [old, now]) if (s) addSlice(services, s as EndpointSlice);
    } else if (kind === POD && old && now && readinessOnly(old as Pod, now as Pod)) {
      pods.set(key, now as Pod);
    } else if (kind === 'VirtualService') {
      routing = true;
    } else {
      return undefined;
    }
  }
  if (!routing) return { endpoints: { services, pods } };
  return services.size === 0 && pods.size === 0 ? { routing } : undefined;
}

/** The objects that differ between two states: added (no `old`), deleted (no `now`) or changed in content. */
function* stateChanges(before: ReadonlyMap<string, AnyObject>, after: ReadonlyMap<string, AnyObject>): Iterable<{ key: string; old?: AnyObject; now?: AnyObject }> {
  for (const [key, now] of after) {
    const old = before.get(key);
    if (old === now) continue;
    // A Pod's or a slice's every write is a change; other kinds re-read unchanged (a file touched) are not.
    const kind = typeKey(now);
    if (old && kind !== SLICE && kind !== POD && sameObjectContent(old, now)) continue;
    yield { key, ...(old ? { old } : {}), now };
  }
  for (const [key, old] of before) if (!after.has(key)) yield { key, old };
}

function addSlice(out: Set<string>, s: EndpointSlice): void {
  const svc = s.metadata.labels?.['kubernetes.io/service-name'];
  if (svc) out.add(`${s.metadata.namespace ?? 'default'}/${svc}`);
}

/**
 * Same labels, annotations, spec and IPs: only conditions and phase differ.
 * The bookkeeping fields Kubernetes bumps on every write are not content.
 */
function readinessOnly(a: Pod, b: Pod): boolean {
  return JSON.stringify(podIdentity(a)) === JSON.stringify(podIdentity(b));
}

function podIdentity(p: Pod): unknown {
  const { resourceVersion: _rv, ...metadata } = p.metadata as Pod['metadata'] & { managedFields?: unknown };
  delete metadata.managedFields;
  return [metadata, p.spec ?? null, p.status?.podIP ?? null, p.status?.podIPs ?? null];
}

