/**
 * Shared set-up of the interception tests: a cluster of two pod namespaces
 * ("app" with the capture rules, "peer" without), services DNAT-ed by the
 * node to the peer, helper processes started as given uids, and checks
 * whether this machine can run them at all (root, iptables, the addon).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetnsCluster, runInPod, spawnInPod, type Pod } from '../../../src/local/netns/index.js';
import { nativeAvailable } from '../../../src/native/original-dst.js';
import type { Identity } from './identity-server.js';

const here = fileURLToPath(new URL('.', import.meta.url));
export const SCRIPTS = {
  server: `${here}identity-server.js`,
  client: `${here}tcp-client.js`,
  cli: `${here}cli-entry.js`,
};

export const APP_UID = 1000;
export const PROXY_UID = 1337;
export const OTHER_UID = 2000;

/** Why these tests cannot run here, or false when they can. */
export function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables)';
  for (const bin of ['ip', 'iptables', 'iptables-restore', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `needs ${bin}`;
  }
  const n = nativeAvailable();
  return n.ok ? false : `native addon: ${n.reason}`;
}

export interface Mesh {
  cluster: NetnsCluster;
  app: Pod;
  peer: Pod;
  /** Processes started by the test, ended in stop(). */
  children: ChildProcess[];
}

/** Services: 10.96.0.10:80 and :81 and 10.96.0.20:80, all served by the peer pod. */
export async function createMesh(): Promise<Mesh> {
  const cluster = await NetnsCluster.create();
  const mesh: Mesh = { cluster, app: undefined as unknown as Pod, peer: undefined as unknown as Pod, children: [] };
  try {
    mesh.app = await cluster.addPod('app');
    mesh.peer = await cluster.addPod('peer');
    await cluster.addService({ clusterIp: '10.96.0.10', port: 80, target: { ip: mesh.peer.ip, port: 8080 } });
    await cluster.addService({ clusterIp: '10.96.0.10', port: 81, target: { ip: mesh.peer.ip, port: 8081 } });
    await cluster.addService({ clusterIp: '10.96.0.20', port: 80, target: { ip: mesh.peer.ip, port: 8080 } });
    await startServer(mesh, mesh.peer, 'peer', [8080, 8081], APP_UID);
    await startServer(mesh, mesh.app, 'app', [8080, 9090], APP_UID);
  } catch (err) {
    await destroyMesh(mesh);
    throw err;
  }
  return mesh;
}

export async function destroyMesh(mesh: Mesh): Promise<void> {
  for (const c of mesh.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  mesh.children = [];
  await mesh.cluster.teardown();
}

/** Starts an identity server in the pod and waits (bounded) for its "ready". */
export async function startServer(
  mesh: Mesh, pod: Pod, name: string, ports: number[], uid: number | undefined, transparent = false, udp = false,
): Promise<ChildProcess> {
  const args = [SCRIPTS.server, name, ports.join(','), ...(transparent ? ['--transparent'] : []), ...(udp ? ['--udp'] : [])];
  // A TPROXY listener needs IP_TRANSPARENT, hence NET_ADMIN, as Istio's proxy has in that mode.
  const caps = transparent ? { ambientCaps: ['net_admin'] } : {};
  const child = spawnInPod(pod, process.execPath, args, uid === undefined ? {} : { uid, ...caps });
  mesh.children.push(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${name} not ready in 10s: ${err}`)), 10_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready')) { clearTimeout(timer); resolve(); }
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited ${code}: ${err}`)); });
  });
  return child;
}

export async function stopChild(mesh: Mesh, child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  mesh.children = mesh.children.filter((c) => c !== child);
}

/** Connects from the pod as `uid` and returns what answered (or {error}). */
export async function connectFrom(
  pod: Pod, uid: number, host: string, port: number, udp = false,
): Promise<Partial<Identity> & { error?: string }> {
  const args = [SCRIPTS.client, host, String(port), ...(udp ? ['--udp'] : [])];
  const r = await runInPod(pod, process.execPath, args, { uid, timeoutMs: 10_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Partial<Identity> & { error?: string };
  } catch {
    return { error: `no answer (exit ${r.code}): ${r.stderr.trim()}` };
  }
}

/** Runs `trellis iptables ARGS` in the pod as root (or as given). */
export function iptablesCli(pod: Pod, args: string[], opts: { uid?: number; dropCaps?: string[] } = {}) {
  return runInPod(pod, process.execPath, [SCRIPTS.cli, 'iptables', ...args], { ...opts, timeoutMs: 20_000 });
}

/** Applies rules in the pod through the CLI, failing loudly. */
export async function applyIn(pod: Pod, args: string[]): Promise<void> {
  const r = await iptablesCli(pod, args);
  if (r.code !== 0) throw new Error(`trellis iptables ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
}
