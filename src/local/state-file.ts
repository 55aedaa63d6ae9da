/**
 * How the CLI finds a running mesh: `trellis up` writes this file once it
 * serves and removes it at teardown; `trellis get|exec|logs` and the debug
 * commands read it. Shape (JSON):
 *
 *   { controlPlane: { debug: "HOST:PORT", xds: "HOST:PORT", ca?: "HOST:PORT" },
 *     pods: [{ name, namespace, ip, admin: "HOST:PORT", netns?, node?, sidecar }] }
 *
 * Every address is reachable from the machine the file is on. A pod's
 * `admin` is its proxy's admin API ("" without a sidecar); with `netns` set
 * it listens inside that network namespace (/var/run/netns/NAME) and must be
 * reached from there (`ip netns exec NAME curl …`, or httpIn() in
 * src/local/netns/connect.ts); without `netns` it is reachable directly.
 *
 * Location: $TRELLIS_STATE_FILE if set, else /run/trellis/state.json for
 * root, else $XDG_RUNTIME_DIR/trellis/state.json (/tmp/trellis-UID/state.json
 * without XDG_RUNTIME_DIR). Written atomically (temp file + rename), 0644.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { env } from '../env.js';
import { TrellisError, errorMessage } from '../errors.js';

export interface MeshState {
  controlPlane: { debug: string; xds: string; ca?: string };
  pods: PodState[];
}

export interface PodState {
  name: string;
  namespace: string;
  ip: string;
  /** The proxy's admin API, "HOST:PORT"; "" when the pod has no sidecar. */
  admin: string;
  /** The network namespace the admin address (and the pod) lives in, when it is not the machine's own. */
  netns?: string;
  node?: string;
  sidecar: boolean;
}

/** The directory for per-user runtime files (state file, `trellis up`'s runs). */
export function runtimeRoot(): string {
  if (process.getuid?.() === 0) return '/run/trellis';
  if (env.xdgRuntimeDir) return join(env.xdgRuntimeDir, 'trellis');
  return `/tmp/trellis-${process.getuid?.() ?? 'user'}`;
}

export function stateFilePath(): string {
  return env.stateFile ?? join(runtimeRoot(), 'state.json');
}

export function writeMeshState(state: MeshState, path = stateFilePath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
}

/** The running mesh's state, or undefined when there is no state file. Throws IO for a file that cannot be read as one. */
export function readMeshState(path = stateFilePath()): MeshState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TrellisError('IO', `cannot read the mesh state file ${path}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const s = JSON.parse(text) as MeshState;
    if (typeof s?.controlPlane?.debug !== 'string' || !Array.isArray(s.pods)) throw new Error('not a mesh state');
    return s;
  } catch (err) {
    throw new TrellisError('IO', `${path} is not a trellis mesh state file: ${errorMessage(err)}`, { cause: err });
  }
}

export function removeMeshState(path = stateFilePath()): void {
  rmSync(path, { force: true });
}
