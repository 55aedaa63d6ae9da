/**
 * Where one `trellis up` run keeps its files, under the runtime root
 * (/run/trellis for root): RUN = up-<runId>/
 *
 *   RUN/up.json                 who owns the run (pid, mode, DIR, start time)
 *   RUN/cluster/pods.yaml       the pods as a cluster stores them (read by the control plane as its second --config-dir)
 *   RUN/services.json           Services with their cluster IPs (for `trellis get services`)
 *   RUN/ca/                     the control plane's CA (a new root per run)
 *   RUN/controlplane.log
 *   RUN/pods/NS/POD/CONTAINER.log, istio-proxy.log, token, pod.json (what `trellis exec` needs)
 *   RUN/ztunnel/                the node proxy's (0700): token, ztunnel.sock (ZDS); RUN/ztunnel.log its output
 *
 * A run whose owner process is gone is stale: the next `up` removes it.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../errors.js';
import { runtimeRoot } from '../state-file.js';

export type UpMode = 'netns' | 'loopback';

export interface RunInfo {
  pid: number;
  runId: string;
  mode: UpMode;
  /** The config directory being run. */
  dir: string;
  startedAt: string;
  /** The state file this run wrote (so a stale one can be told from another run's). */
  stateFile: string;
}

export function runDirPath(runId: string, root = runtimeRoot()): string {
  return join(root, `up-${runId}`);
}

export const runFiles = {
  info: (run: string) => join(run, 'up.json'),
  clusterDir: (run: string) => join(run, 'cluster'),
  pods: (run: string) => join(run, 'cluster', 'pods.yaml'),
  services: (run: string) => join(run, 'services.json'),
  caDir: (run: string) => join(run, 'ca'),
  controlPlaneLog: (run: string) => join(run, 'controlplane.log'),
  podDir: (run: string, ns: string, pod: string) => join(run, 'pods', ns, pod),
  containerLog: (run: string, ns: string, pod: string, container: string) => join(run, 'pods', ns, pod, `${container}.log`),
  podInfo: (run: string, ns: string, pod: string) => join(run, 'pods', ns, pod, 'pod.json'),
  nodeProxyDir: (run: string) => join(run, 'ztunnel'),
  nodeProxyToken: (run: string) => join(run, 'ztunnel', 'token'),
  zdsSocket: (run: string) => join(run, 'ztunnel', 'ztunnel.sock'),
  nodeProxyLog: (run: string) => join(run, 'ztunnel.log'),
};

export function writeRunInfo(run: string, info: RunInfo): void {
  mkdirSync(run, { recursive: true, mode: 0o755 });
  writeFileSync(runFiles.info(run), JSON.stringify(info, null, 2) + '\n', { mode: 0o644 });
}

export function readRunInfo(run: string): RunInfo | undefined {
  try {
    return JSON.parse(readFileSync(runFiles.info(run), 'utf8')) as RunInfo;
  } catch {
    return undefined;
  }
}

/** Every run directory under the root, with its info when readable. */
export function listRuns(root = runtimeRoot()): { dir: string; runId: string; info: RunInfo | undefined }[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.filter((n) => /^up-[0-9a-f]{6}$/.test(n)).map((n) => ({ dir: join(root, n), runId: n.slice(3), info: readRunInfo(join(root, n)) }));
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A short reason for a log line, never a throw: the sweeper keeps going. */
export function why(err: unknown): string {
  return errorMessage(err).split('\n')[0] ?? '';
}
