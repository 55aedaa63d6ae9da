/**
 * A loopback-mode sidecar: `trellis proxy` on the host, its admin API on the
 * pod's address (each pod has its own, so every proxy keeps Istio's 15000),
 * announcing INTERCEPTION_MODE NONE with its app address and service view
 * so the control plane binds its listeners (translate/loopback.ts). No init
 * step: nothing to capture. Ready when /ready answers 200.
 */
import type { ChildProcess } from 'node:child_process';
import { TrellisError } from '../../../errors.js';
import { httpIn } from '../../netns/index.js';
import { sidecarNodeId } from '../../mesh-pod.js';
import type { PodProcessSpec, Sidecar, SidecarOptions } from '../network.js';

const ADMIN_PORT = 15000;
const READY_TIMEOUT_MS = 15_000;

export async function startLoopbackSidecar(o: SidecarOptions, lowPorts: number, spawn: (argv: readonly string[], spec: Omit<PodProcessSpec, 'uid' | 'gid'>) => ChildProcess): Promise<Sidecar> {
  const admin = `${o.pod.ip}:${ADMIN_PORT}`;
  const argv = [
    ...o.trellis, 'proxy', '--xds-address', o.xds, '--node-id', sidecarNodeId(o.pod.name, o.pod.ip, o.pod.namespace),
    '--admin-port', String(ADMIN_PORT), '--admin-address', o.pod.ip, '--drain-seconds', '1',
    '--ca-address', o.ca, '--root-cert', o.rootCertFile, '--token-file', o.tokenFile,
  ];
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    ...o.metadataEnv,
    ISTIO_META_WORKLOAD_NAME: o.workloadName,
    ISTIO_META_LABELS: JSON.stringify(o.labels),
    ISTIO_META_INTERCEPTION_MODE: 'NONE',
    TRELLIS_META_LOOPBACK_APP_IP: o.pod.appIp,
    TRELLIS_META_LOOPBACK_SERVICE_VIEW: o.pod.view!,
    TRELLIS_META_LOOPBACK_LOW_PORTS: String(lowPorts),
  };
  const started = performance.now();
  const child = spawn(argv, { env, cwd: '/', stdio: ['ignore', o.logFd, o.logFd] });
  let stopping = false;
  const listeners: ((how: string) => void)[] = [];
  const how = () => (child.exitCode === null && child.signalCode === null ? undefined : child.signalCode ?? `exit ${child.exitCode}`);
  child.once('exit', () => {
    if (!stopping) for (const l of listeners) l(how() ?? 'exited');
  });
  const stop = async () => {
    stopping = true;
    if (how() !== undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  let readyMs: number | undefined;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let i = 0; i < 1000 && Date.now() < deadline && readyMs === undefined; i++) {
    if (how() !== undefined) throw new TrellisError('IO', `pod ${o.pod.namespace}/${o.pod.name}: proxy exited (${how()}) before it was ready`);
    const r = await httpIn(undefined, admin, '/ready', { timeoutMs: 1000 }).catch(() => undefined);
    if (r?.status === 200) readyMs = performance.now() - started;
    else await new Promise((res) => setTimeout(res, 25));
  }
  if (readyMs === undefined) {
    await stop();
    throw new TrellisError('IO', `pod ${o.pod.namespace}/${o.pod.name}: proxy not ready within ${READY_TIMEOUT_MS} ms`);
  }
  return { admin, readyMs, exited: how, onExit: (l) => listeners.push(l), pid: child.pid, stop };
}
