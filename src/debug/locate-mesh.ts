/**
 * Which mesh a debugging command talks to: an explicit --control-plane, else
 * the running mesh's state file (`trellis up`). The state file's pods (with
 * their admin addresses) are merged with the control plane's connected
 * proxies, so a pod is found however it was started.
 */
import { TrellisError } from '../errors.js';
import { readStateFile, stateFileCandidates, type FoundState } from '../local/state-file.js';
import { mergedLocator, staticLocator, type MeshLocator } from './locator.js';
import { synczLocator } from './syncz.js';

export interface MeshFlags {
  /** --control-plane HOST:PORT (the control plane's debug port). */
  controlPlane?: string;
}

function fromState(found: FoundState): MeshLocator {
  const { state, path } = found;
  return staticLocator(`state file ${path}`, state.controlPlane.debug, state.pods.map((p) => ({ name: p.name, namespace: p.namespace, ip: p.ip, ...(p.admin ? { admin: p.admin, ...(p.netns ? { netns: p.netns } : {}) } : {}) })));
}

export async function locateMesh(flags: MeshFlags, read: () => FoundState | undefined | Promise<FoundState | undefined> = readStateFile): Promise<MeshLocator> {
  const found = await read();
  const live = found && !found.stale ? found : undefined;
  if (flags.controlPlane !== undefined) {
    // The state file describes another mesh unless it names this control plane.
    return live?.state.controlPlane.debug === flags.controlPlane ? mergedLocator(fromState(live), synczLocator(flags.controlPlane)) : synczLocator(flags.controlPlane);
  }
  if (live) return mergedLocator(fromState(live), synczLocator(live.state.controlPlane.debug));
  if (found) {
    throw new TrellisError('MESH_NOT_FOUND', `no running mesh: ${found.path} was left by a trellis up (pid ${found.state.pid}) that is no longer running; start it again, or pass --control-plane HOST:PORT`);
  }
  throw new TrellisError('MESH_NOT_FOUND', `no running mesh found (no state file at ${stateFileCandidates().join(' or ')}): start one with \`trellis up\`, or pass --control-plane HOST:PORT (the control plane's debug port, 15014 by default)`);
}
