/**
 * The running mesh's state file: how the debugging CLI (proxy-status,
 * proxy-config, describe, tls-check, analyze) finds a mesh that `trellis up`
 * started, without flags. `up` writes it when everything is started and
 * removes it when it stops; readers never write it.
 *
 * Format (JSON, one object):
 *   {
 *     "version": 1,
 *     "pid": 4242,                          // the `trellis up` process (a dead pid marks the file stale)
 *     "startedAt": "2026-12-08T10:00:00Z",
 *     "configDir": "/home/me/mesh",         // what `trellis analyze` reads without DIR
 *     "controlPlane": { "debug": "127.0.0.1:15014", "xds": "127.0.0.1:15010", "ca": "127.0.0.1:15012" },
 *     "pods": [
 *       { "name": "reviews-v1-5d8f7", "namespace": "default", "ip": "10.244.0.12",
 *         "admin": "127.0.0.1:15000",         // the sidecar's admin API, in netns when given; absent without a sidecar
 *         "netns": "trellis-reviews-v1-5d8f7", "node": "trellis-node-1" }
 *     ],
 *     "nodeProxies": [                      // optional: ambient mode's per-node proxy (`trellis ztunnel`), one per node running one
 *       { "name": "ztunnel-trellis-node-1", "namespace": "istio-system", "node": "trellis-node-1",
 *         "admin": "127.0.0.1:15000", "netns": "trellis-node-1", "pid": 4343 }
 *     ]
 *   }
 * Only controlPlane.debug and controlPlane.xds, and each pod's name,
 * namespace and ip, are required (and each node proxy's name, namespace,
 * node and admin when there is one); readers ignore fields they do not know, so
 * `up` may add more. A newer major `version` is refused with a clear error.
 *
 * Where: $TRELLIS_STATE_FILE when set; otherwise `up` run as root writes
 * /run/trellis/mesh.json, and as another user $XDG_RUNTIME_DIR/trellis/mesh.json
 * (or the temp directory's trellis-UID/mesh.json without XDG_RUNTIME_DIR).
 * Readers look in the user's places first, then in /run/trellis.
 *
 * A pod's `admin` is reached in its `netns` when it has one: in `up`'s netns
 * mode the proxy's admin API listens on 127.0.0.1 inside the pod, as
 * Envoy's does in Istio, and is not relayed to the machine's loopback (any
 * local user could then POST /quitquitquit); entering the namespace needs
 * root. The file is written synchronously: `up` also writes and removes it
 * from signal handlers, and it is a few kilobytes.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { env } from '../env.js';
import { errorMessage, TrellisError } from '../errors.js';

export const STATE_FILE_VERSION = 1;

export interface MeshStatePod {
  name: string;
  namespace: string;
  ip: string;
  /** HOST:PORT of the sidecar's admin API (Envoy's 15000), inside `netns` when set; absent for a pod without a sidecar. */
  admin?: string;
  /** The pod's network namespace, when it has one. */
  netns?: string;
  /** The node (one-machine cluster: the bridge namespace) the pod runs on. */
  node?: string;
}

/**
 * A node proxy (ztunnel's role): named as the control plane knows it
 * ("ztunnel-NODE" in istio-system, its xDS node id's pod), its admin API
 * inside `netns` when set, as a pod's sidecar admin is.
 */
export interface MeshStateNodeProxy {
  name: string;
  namespace: string;
  node: string;
  admin: string;
  netns?: string;
  pid?: number;
}

export interface MeshState {
  version?: number;
  pid?: number;
  startedAt?: string;
  configDir?: string;
  controlPlane: { debug: string; xds: string; ca?: string };
  pods: MeshStatePod[];
  /** Absent when no node proxy runs (no ambient pod, loopback mode, or a state file of an older trellis). */
  nodeProxies?: MeshStateNodeProxy[];
}

const uid = () => (typeof process.getuid === 'function' ? process.getuid() : -1);
const ROOT_PATH = '/run/trellis/mesh.json';

const userDir = () => (env.runtimeDir ? join(env.runtimeDir, 'trellis') : join(tmpdir(), `trellis-${uid()}`));
const userPath = () => join(userDir(), 'mesh.json');

/** The directory of `trellis up`'s runtime files (the state file, its runs): /run/trellis for root, else the user's. */
export function runtimeRoot(): string {
  return uid() === 0 ? dirname(ROOT_PATH) : userDir();
}

/** Where `trellis up` writes the state file. */
export function stateFilePath(): string {
  if (env.stateFile) return env.stateFile;
  return uid() === 0 ? ROOT_PATH : userPath();
}

/** Where readers look, in order: an explicit $TRELLIS_STATE_FILE alone, else the user's place, then root's. */
export function stateFileCandidates(): string[] {
  if (env.stateFile) return [env.stateFile];
  return uid() === 0 ? [ROOT_PATH, userPath()] : [userPath(), ROOT_PATH];
}

/** Writes atomically (a reader never sees half a file); the directory is created, readable by everyone: addresses are not secrets. */
export function writeStateFile(state: MeshState, path = stateFilePath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: STATE_FILE_VERSION, ...state }, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
}

export function removeStateFile(path = stateFilePath()): void {
  rmSync(path, { force: true });
}

export interface FoundState {
  path: string;
  state: MeshState;
  /** The writer's pid is gone: the mesh is not running (a crash left the file behind). */
  stale: boolean;
}

/** The first state file found, or undefined when there is none; a malformed one is a STATE_FILE error naming the file. */
export function readStateFile(candidates = stateFileCandidates()): FoundState | undefined {
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw new TrellisError('STATE_FILE', `cannot read the mesh state file ${path}`, { cause: err });
    }
    const state = parseMeshState(text, path);
    return { path, state, stale: state.pid !== undefined && !alive(state.pid) };
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user (a root `up` read by a user's CLI).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses and checks a state file's text; every problem names the file and the field. */
export function parseMeshState(text: string, path: string): MeshState {
  const bad = (what: string) => new TrellisError('STATE_FILE', `mesh state file ${path}: ${what}`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${errorMessage(err)})`);
  }
  if (!isObject(v)) throw bad('not a JSON object');
  if (v.version !== undefined && (typeof v.version !== 'number' || Math.floor(v.version) > STATE_FILE_VERSION)) {
    throw bad(`version ${String(v.version)} is newer than this trellis reads (${STATE_FILE_VERSION}): upgrade trellis`);
  }
  const cp = v.controlPlane;
  if (!isObject(cp) || !isAddress(cp.debug) || !isAddress(cp.xds)) throw bad('controlPlane.debug and controlPlane.xds must be HOST:PORT strings');
  if (cp.ca !== undefined && !isAddress(cp.ca)) throw bad('controlPlane.ca must be a HOST:PORT string');
  if (!Array.isArray(v.pods)) throw bad('pods must be an array');
  v.pods.forEach((p: unknown, i) => {
    if (!isObject(p) || typeof p.name !== 'string' || typeof p.namespace !== 'string' || typeof p.ip !== 'string') throw bad(`pods[${i}] needs name, namespace and ip (strings)`);
    if (p.admin !== undefined && !isAddress(p.admin)) throw bad(`pods[${i}].admin must be a HOST:PORT string`);
  });
  if (v.pid !== undefined && !Number.isInteger(v.pid)) throw bad('pid must be an integer');
  if (v.nodeProxies !== undefined && !Array.isArray(v.nodeProxies)) throw bad('nodeProxies must be an array');
  (v.nodeProxies as unknown[] | undefined)?.forEach((n: unknown, i) => {
    if (!isObject(n) || typeof n.name !== 'string' || typeof n.namespace !== 'string' || typeof n.node !== 'string') throw bad(`nodeProxies[${i}] needs name, namespace and node (strings)`);
    if (!isAddress(n.admin)) throw bad(`nodeProxies[${i}].admin must be a HOST:PORT string`);
    if (n.netns !== undefined && typeof n.netns !== 'string') throw bad(`nodeProxies[${i}].netns must be a string`);
    if (n.pid !== undefined && !Number.isInteger(n.pid)) throw bad(`nodeProxies[${i}].pid must be an integer`);
  });
  return v as unknown as MeshState;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "host:port", "[v6]:port": a port 1..65535 after the last colon. */
export function isAddress(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const i = v.lastIndexOf(':');
  const port = Number(v.slice(i + 1));
  return i > 0 && Number.isInteger(port) && port > 0 && port < 65536;
}
