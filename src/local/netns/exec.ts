/**
 * Running processes inside a pod namespace as a given user: `ip netns exec`
 * (which also bind-mounts /etc/netns/<ns>/hosts over /etc/hosts), then
 * setpriv to drop to the uid/gid, so the process holds no capabilities.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Pod } from './cluster.js';

export interface PodProcessOptions {
  /** Default: stay root (only for init steps such as `trellis iptables`). */
  uid?: number;
  /** Default: same as uid. */
  gid?: number;
  env?: NodeJS.ProcessEnv;
  stdio?: SpawnOptions['stdio'];
  /** Drop these capabilities from a root process (e.g. ['net_admin']), for testing refusal paths. */
  dropCaps?: string[];
  /** With `uid`: keep these capabilities as ambient ones (e.g. ['net_admin'] for a TPROXY proxy). */
  ambientCaps?: string[];
  /** SIGKILL the process when its parent dies (setpriv --pdeathsig): nothing outlives a crashed supervisor. */
  pdeathsig?: boolean;
  /** Its own process group: a terminal's Ctrl-C reaches the supervisor only, which stops its children in order. */
  detached?: boolean;
  cwd?: string;
}

/** The argv that runs `cmd args` in the pod's namespace with the given identity. */
export function podCommand(pod: Pod | string, cmd: string, args: readonly string[], opts: PodProcessOptions = {}): string[] {
  const ns = typeof pod === 'string' ? pod : pod.netns;
  const argv = ['ip', 'netns', 'exec', ns];
  // setpriv applies the death signal after changing credentials (a credential change would clear it).
  const death = opts.pdeathsig ? ['--pdeathsig', 'KILL'] : [];
  if (opts.uid !== undefined) {
    const gid = opts.gid ?? opts.uid;
    const keep = (opts.ambientCaps ?? []).map((c) => `+${c}`).join(',');
    const caps = keep === '' ? ['--inh-caps=-all'] : [`--inh-caps=-all,${keep}`, `--ambient-caps=${keep}`];
    argv.push('setpriv', `--reuid=${opts.uid}`, `--regid=${gid}`, '--clear-groups', ...caps, ...death, '--');
  } else if (opts.dropCaps && opts.dropCaps.length > 0) {
    const caps = opts.dropCaps.map((c) => `-${c}`).join(',');
    argv.push('setpriv', `--inh-caps=${caps}`, `--bounding-set=${caps}`, ...death, '--');
  } else if (death.length > 0) {
    argv.push('setpriv', ...death, '--');
  }
  argv.push(cmd, ...args);
  return argv;
}

/** Spawns `cmd args` inside the pod; the caller owns the child (and must end it). */
export function spawnInPod(pod: Pod | string, cmd: string, args: readonly string[], opts: PodProcessOptions = {}): ChildProcess {
  const [bin, ...rest] = podCommand(pod, cmd, args, opts);
  return spawn(bin as string, rest, { stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.detached ? { detached: true } : {}) });
}

/** Runs to completion inside the pod; resolves with exit code and output (bounded by `timeoutMs`). */
export function runInPod(
  pod: Pod | string, cmd: string, args: readonly string[], opts: PodProcessOptions & { timeoutMs?: number; input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnInPod(pod, cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    // A child that exits (or closes stdin) before reading it makes this write fail with EPIPE: that is not an error of the run.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}
