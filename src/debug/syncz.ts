/**
 * The control plane's /debug/syncz as the CLI reads it, and the locator built
 * on it: every connected proxy is a pod the CLI can name ("pod.namespace"),
 * though syncz cannot say where its admin API listens.
 */
import type { ProxySyncStatus } from '../controlplane/server/sync-status.js';
import { requestJson } from './http.js';
import type { MeshLocator, PodRef } from './locator.js';

/** One /debug/syncz entry, with the control plane's name added by the debug server. */
export type SynczEntry = ProxySyncStatus & { controlPlane?: string };

export function fetchSyncz(controlPlane: string): Promise<SynczEntry[]> {
  return requestJson<SynczEntry[]>(controlPlane, '/debug/syncz', { what: 'the control plane (--control-plane)' });
}

/** The pod a syncz entry stands for: "pod.namespace" split as istiod built it, the IP from the node id. */
export function podOfSyncz(e: SynczEntry): PodRef {
  const suffix = `.${e.namespace}`;
  const name = e.namespace && e.proxy.endsWith(suffix) ? e.proxy.slice(0, -suffix.length) : e.proxy;
  const ip = e.nodeId.split('~')[1];
  return { name, namespace: e.namespace, proxyId: e.proxy, ...(ip ? { ip } : {}) };
}

export function synczLocator(controlPlane: string): MeshLocator {
  return {
    source: `control plane ${controlPlane}`,
    controlPlane,
    pods: async () => (await fetchSyncz(controlPlane)).map(podOfSyncz),
  };
}
