import { sameObjectContent, type AnyObject } from '../../config/objects.js';

/** One label set of istiod's pilot_k8s_cfg_events: the kind, and add / update / delete. */
export interface ConfigEvent {
  type: string;
  event: 'add' | 'update' | 'delete';
}

/**
 * Istio's config kinds (networking, security, telemetry.istio.io) and the
 * Gateway API's: what istiod's config controller watches and counts in
 * pilot_k8s_cfg_events. Services, endpoints and pods are the service
 * registry's, not config events.
 */
export function isConfigKind(o: AnyObject): boolean {
  const group = o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '';
  return group.endsWith('.istio.io') || group === 'gateway.networking.k8s.io';
}

/**
 * The config events between two accepted states, as istiod's informers would
 * have seen them: a key that appears is an add, one that goes a delete, one
 * whose object changed an update. Sources hand over full states, so the
 * events are recovered by comparing them: the same object (a file that did
 * not change keeps its parsed objects) or the same resourceVersion is no
 * event; otherwise the contents decide.
 */
export function configEvents(before: ReadonlyMap<string, AnyObject>, after: ReadonlyMap<string, AnyObject>): ConfigEvent[] {
  const out: ConfigEvent[] = [];
  for (const [key, o] of after) {
    if (!isConfigKind(o)) continue;
    const old = before.get(key);
    if (!old) out.push({ type: o.kind, event: 'add' });
    else if (!sameObjectContent(old, o)) out.push({ type: o.kind, event: 'update' });
  }
  for (const [key, o] of before) if (isConfigKind(o) && !after.has(key)) out.push({ type: o.kind, event: 'delete' });
  return out;
}
