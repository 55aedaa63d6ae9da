/**
 * The mesh's configuration as `describe` and `tls-check` judge it: the
 * objects the control plane accepted (its /debug/configz), or a config
 * directory read the way the control plane would read it (--config-dir), and
 * the model the control plane would build from them — so both commands decide
 * with the control plane's own registry code (DestinationRule lookup,
 * VirtualService precedence, endpoints).
 */
import { objectKey, type AnyObject } from '../config/objects.js';
import { buildModel } from '../controlplane/registry/build-model.js';
import type { MeshModel } from '../controlplane/registry/model.js';
import { readConfigDirectory } from '../controlplane/sources/read-directory.js';
import { TrellisError } from '../errors.js';
import { requestJson } from './http.js';
import type { MeshLocator } from './locator.js';

export interface MeshConfig {
  /** "config directory DIR" or "control plane HOST:PORT", for messages. */
  source: string;
  objects: readonly AnyObject[];
  model: MeshModel;
}

export function meshConfigOf(source: string, objects: readonly AnyObject[]): MeshConfig {
  const map = new Map(objects.map((o) => [objectKey(o), o]));
  return { source, objects, model: buildModel({ objects: map, problems: [], revision: 1 }) };
}

export async function loadMeshConfig(configDir: string | undefined, mesh: () => Promise<MeshLocator>): Promise<MeshConfig> {
  if (configDir !== undefined) {
    const read = await readConfigDirectory(configDir);
    return meshConfigOf(`config directory ${configDir}`, [...read.objects.values()]);
  }
  const m = await mesh();
  if (m.controlPlane === undefined) throw new TrellisError('MESH_NOT_FOUND', `no control plane known (${m.source}): pass --control-plane HOST:PORT or --config-dir DIR`);
  const objects = await requestJson<AnyObject[]>(m.controlPlane, '/debug/configz', { what: 'the control plane (--control-plane)' });
  return meshConfigOf(`control plane ${m.controlPlane}`, objects);
}
