/**
 * `trellis proxy-status [POD]`: every proxy's sync state from the control
 * plane's /debug/syncz, or one proxy's row with the reason for each STALE or
 * ERROR type. Resolves with the exit code: 0 when every proxy shown is in
 * sync, 1 when one is STALE or ERROR.
 */
import { TrellisError } from '../../errors.js';
import { formatTable } from '../format/table.js';
import { findPod, podKey, type MeshLocator, type PodRef } from '../locator.js';
import { structured, type Write } from '../output.js';
import { fetchSyncz, podOfSyncz } from '../syncz.js';
import { outOfSync, outOfSyncReasons, proxyStatusHeader, statusRows } from './status-rows.js';

export interface ProxyStatusOptions {
  mesh: MeshLocator;
  pod?: string;
  namespace?: string;
  output: 'table' | 'json' | 'yaml';
  now?: number;
}

export async function proxyStatus(o: ProxyStatusOptions, write: Write): Promise<number> {
  const controlPlane = o.mesh.controlPlane;
  if (controlPlane === undefined) throw new TrellisError('MESH_NOT_FOUND', `no control plane known (${o.mesh.source}): pass --control-plane HOST:PORT`);
  let entries = await fetchSyncz(controlPlane);
  if (o.namespace !== undefined) entries = entries.filter((e) => e.namespace === o.namespace);
  if (o.pod !== undefined) {
    const pod = await connectedPod(o.mesh, entries.map(podOfSyncz), o.pod, o.namespace);
    entries = entries.filter((e) => e.proxy === pod.proxyId);
  }
  if (o.output !== 'table') {
    write(structured(entries, o.output));
    return entries.some(outOfSync) ? 1 : 0;
  }
  const now = o.now ?? Date.now();
  if (entries.length === 0) {
    write(`no proxies are connected to the control plane at ${controlPlane}${o.namespace ? ` in namespace ${o.namespace}` : ''}\n`);
    return 0;
  }
  write(formatTable([proxyStatusHeader(entries), ...statusRows(entries, now)], 5));
  if (o.pod !== undefined) {
    const reasons = outOfSyncReasons(entries[0]!, now);
    if (reasons.length > 0) write(`\n${reasons.join('\n')}\n`);
  }
  return entries.some(outOfSync) ? 1 : 0;
}

/** The connected proxy of a pod; a pod the mesh knows but whose proxy is not connected gets its own message. */
async function connectedPod(mesh: MeshLocator, connected: PodRef[], query: string, namespace: string | undefined): Promise<PodRef> {
  try {
    return findPod(connected, query, `connected to the control plane at ${mesh.controlPlane}`, namespace);
  } catch (err) {
    const known = await mesh.pods().then((all) => findPod(all, query, mesh.source, namespace), () => undefined).catch(() => undefined);
    if (known === undefined || known.proxyId !== undefined) throw err;
    throw new TrellisError('POD_NOT_FOUND', `pod ${podKey(known)} has no proxy connected to the control plane at ${mesh.controlPlane} (it may have no sidecar, or its proxy is not running)`);
  }
}
