/**
 * `trellis exec`: a command in a pod as kubectl exec runs it — in the pod's
 * network namespace (netns mode; its /etc/hosts too), as the app
 * container's user, with that container's environment (kubelet's service
 * variables, POD_IP, ...) and working directory; stdin, stdout and stderr
 * are the caller's; the exit code is the command's (128+N for a signal).
 */
import { spawn } from 'node:child_process';
import { TrellisError } from '../../errors.js';
import { podCommand } from '../netns/index.js';
import { findRunningMesh, readExecInfo, resolvePod } from './running-mesh.js';
import { DEFAULT_APP_UID } from '../mesh-pod.js';
import { constants } from 'node:os';

export async function execInPod(podRef: string, command: readonly string[], namespace: string | undefined, container: string | undefined): Promise<number> {
  if (command.length === 0) throw new TrellisError('CLI_USAGE', 'no command given: trellis exec POD -- COMMAND [ARGS...]');
  const mesh = findRunningMesh();
  const pod = resolvePod(mesh, podRef, namespace);
  const info = readExecInfo(mesh, pod);
  const c = container === undefined ? info.containers[0] : info.containers.find((x) => x.name === container);
  if (!c) throw new TrellisError('CLI_USAGE', `container ${container} is not in pod ${pod.namespace}/${pod.name} (app containers: ${info.containers.map((x) => x.name).join(', ')})`);
  const netns = info.address.netns;
  const argv = netns ? podCommand(netns, command[0]!, command.slice(1), { uid: c.uid ?? DEFAULT_APP_UID, gid: c.gid ?? c.uid ?? DEFAULT_APP_UID }) : [...command];
  const env = { ...c.env, ...(process.env.TERM ? { TERM: process.env.TERM } : {}) };
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env, cwd: c.cwd });
  // The command decides what a Ctrl-C means; we only wait for it.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`trellis exec: ${err.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? 128 + (signal ? constants.signals[signal] ?? 1 : 1));
    });
  });
}
