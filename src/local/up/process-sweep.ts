/**
 * Finding a run's processes after the fact: every process `trellis up`
 * starts (and whatever those start) carries TRELLIS_UP_RUN=<runId> in its
 * environment, which /proc shows for as long as it lives. The death signal
 * (setpriv --pdeathsig) ends direct children when `up` dies; this finds the
 * rest (an app's own children), at teardown and after a crash.
 */
import { readFileSync, readdirSync } from 'node:fs';

export const RUN_ENV = 'TRELLIS_UP_RUN';

/** Pids whose environment holds TRELLIS_UP_RUN=runId (those this user may read). */
export function runProcesses(runId: string): number[] {
  const marker = `${RUN_ENV}=${runId}`;
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').split('\0').includes(marker)) out.push(Number(e));
    } catch {
      // gone, or another user's: not ours to see
    }
  }
  return out;
}

/** SIGKILLs every process of the run; returns how many there were. */
export function killRunProcesses(runId: string): number {
  const pids = runProcesses(runId);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}
