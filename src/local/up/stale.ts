/**
 * What a `trellis up` that died without tearing down (SIGKILL, a crash, a
 * power cut) left behind, removed by the next one — which says so. Only
 * leftovers of runs whose owner process is gone are touched: run
 * directories under the runtime root, the processes carrying their run id,
 * their loopback address claims, the state file they wrote, and (as root)
 * network namespaces of dead runs (src/local/netns/stale.ts, which also
 * covers the test suites' namespaces).
 */
import { rmSync } from 'node:fs';
import { readStateFile } from '../state-file.js';
import { removeStale as removeStaleNamespaces } from '../netns/index.js';
import { sweepClaims } from './loopback/claims.js';
import { killRunProcesses } from './process-sweep.js';
import { listRuns, pidAlive, why } from './run-dir.js';

/** One line per thing removed, for the start-up output; empty when there was nothing. */
export async function sweepStale(canNetns: boolean): Promise<string[]> {
  const report: string[] = [];
  for (const run of listRuns()) {
    if (run.info && pidAlive(run.info.pid)) continue;
    const killed = killRunProcesses(run.runId);
    const parts = [`run ${run.runId}${run.info ? ` (pid ${run.info.pid}, ${run.info.mode}, ${run.info.dir})` : ''}`];
    if (killed > 0) parts.push(`${killed} process(es) killed`);
    if (run.info?.stateFile && ownsStateFile(run.info.stateFile, run.runId)) {
      rmSync(run.info.stateFile, { force: true });
      parts.push(`state file ${run.info.stateFile} removed`);
    }
    try {
      rmSync(run.dir, { recursive: true, force: true });
      parts.push(`${run.dir} removed`);
    } catch (err) {
      parts.push(`${run.dir} not removed: ${why(err)}`);
    }
    report.push(`stale run: ${parts.join(', ')}`);
  }
  if (canNetns) {
    const namespaces = await removeStaleNamespaces().catch((err: unknown) => [`(failed: ${why(err)})`]);
    if (namespaces.length > 0) report.push(`stale network namespaces removed: ${namespaces.join(', ')}`);
  }
  const claims = sweepClaims();
  if (claims.length > 0) report.push(`stale loopback claims released: ${claims.map((o) => `127.${o}.0.0/16`).join(', ')}`);
  return report;
}

/** True when the state file at `path` exists and no live run claims it: a file another live run rewrote is never removed. */
function ownsStateFile(path: string, runId: string): boolean {
  let state;
  try {
    state = readStateFile([path]);
  } catch {
    return false;
  }
  if (!state) return false;
  const others = listRuns().filter((r) => r.runId !== runId && r.info && pidAlive(r.info.pid) && r.info.stateFile === path);
  return others.length === 0;
}
