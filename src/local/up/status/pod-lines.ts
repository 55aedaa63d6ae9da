/** The pods part of the live status, in kubectl's words (READY, STATUS, RESTARTS as `get pods` shows them). Pure. */
import { podRow } from '../kube-table.js';
import { podObject, type PodSnapshot } from '../pod-objects.js';
import type { PodLine } from './render.js';

export function kubePodLines(snapshots: readonly PodSnapshot[], now: number): PodLine[] {
  return snapshots.map((s) => {
    const [, ready = '', status = '', restarts = '0'] = podRow(podObject(s), now, false);
    return { namespace: s.namespace, name: s.name, ready, status, restarts: Number(restarts), ip: s.ip ?? '', sidecar: s.sidecar, ...(s.ambient ? { ambient: true } : {}) };
  });
}
