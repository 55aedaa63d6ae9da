/**
 * Before `trellis up` changes anything: which mode this machine allows, and
 * whether another live mesh already owns the state file.
 */
import { spawnSync } from 'node:child_process';
import { TrellisError } from '../../errors.js';
import { nativeAvailable } from '../../native/original-dst.js';
import { readStateFile } from '../state-file.js';
import { listRuns, pidAlive, type UpMode } from './run-dir.js';

/** Which mode, and why not netns when not. */
export function chooseMode(forceLoopback: boolean): { mode: UpMode; why?: string } {
  if (forceLoopback) return { mode: 'loopback', why: '--loopback' };
  if (process.platform !== 'linux') return { mode: 'loopback', why: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { mode: 'loopback', why: 'not root (network namespaces and iptables need root)' };
  const n = nativeAvailable();
  if (!n.ok) return { mode: 'loopback', why: `no transparent capture: ${n.reason}` };
  for (const bin of ['ip', 'iptables-restore', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status !== 0) return { mode: 'loopback', why: `${bin} is not installed` };
  }
  return { mode: 'netns' };
}

/** Refuses to start over a live mesh's state file. */
export function checkStateFile(path: string): void {
  const live = listRuns().find((r) => r.info && r.info.stateFile === path && pidAlive(r.info.pid));
  if (live && readStateFile([path])) {
    throw new TrellisError('CLI_USAGE', `a mesh is already running (trellis up pid ${live.info!.pid}, ${live.info!.dir}; state file ${path}): stop it first, or set TRELLIS_STATE_FILE to run a second one beside it`);
  }
}
