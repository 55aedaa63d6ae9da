/**
 * Set-up of the end-to-end mesh test: a NetnsCluster with pods "client" and
 * "server" (and "server2", version v2, when asked), the real `trellis controlplane` in the node namespace (bound to
 * the bridge address, the only address pods can reach), a config dir written
 * for those pods, each pod meshed by MeshPod (iptables init → proxy as 1337),
 * and the server app as uid 1000. Everything is recorded on the returned
 * object as soon as it exists, so stopTwoPodMesh() can undo a half-finished start.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_APP_UID, ISTIO_INIT_ARGS, MeshPod, PROXY_UID, type PodIdentity } from '../../../src/local/mesh-pod.js';
import { NetnsCluster, runInPod, spawnInPod, type Pod } from '../../../src/local/netns/index.js';
import { nativeAvailable } from '../../../src/native/original-dst.js';
import { trellisBin } from '../../helpers/trellis-process.js';
import { meshConfig, NAMESPACE, SERVICE } from './mesh-config.js';

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.js', import.meta.url));
export const TRELLIS: readonly string[] = [process.execPath, trellisBin];
const XDS_PORT = 15010;
const DEBUG_PORT = 15014;
const CA_PORT = 15012;
/** Under the mesh's temp dir: the config the control plane watches, and its CA. */
export const CONFIG_DIR = 'config';
const CA_DIR = 'ca';

/** Why the test cannot run here, or false when it can. */
export function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux (network namespaces, iptables)';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables)';
  for (const bin of ['ip', 'iptables', 'iptables-restore', 'setpriv', 'curl']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `needs ${bin}`;
  }
  const n = nativeAvailable();
  return n.ok ? false : `native addon (SO_ORIGINAL_DST): ${n.reason}`;
}

export interface TwoPodMesh {
  cluster?: NetnsCluster;
  dir?: string;
  controlPlane?: ChildProcess;
  controlPlaneStderr: string[];
  /** host:port of the control plane's ADS and debug servers (inside the node namespace). */
  xds?: string;
  debug?: string;
  /** host:port of its CA (with the identity option). */
  ca?: string;
  client?: MeshPod;
  server?: MeshPod;
  serverApp?: ChildProcess;
  /** With `secondServer`: pod "server2", labelled version v2, behind the same Service. */
  server2?: MeshPod;
}

export interface TwoPodMeshOptions {
  secondServer?: boolean;
  /** The control plane runs its CA (15012) and every sidecar gets a token for its service account (the pod's app label). */
  identity?: { certTtl?: string };
  /** Further labels per pod (in the registry and the proxy's node metadata), e.g. topology labels. */
  labels?: Partial<Record<'server' | 'client' | 'server2', Record<string, string>>>;
  /**
   * Istio's DNS proxying: each pod's resolv.conf names this resolver (and the
   * kubelet's search list), the init step adds --redirect-dns, the sidecars
   * run with ISTIO_META_DNS_CAPTURE=true.
   */
  dnsCapture?: { nameserver: string };
}

/** The kubelet's search list for a pod in NAMESPACE. */
export const SEARCH = [`${NAMESPACE}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'];

export async function startTwoPodMesh(mesh: TwoPodMesh, o: TwoPodMeshOptions = {}): Promise<void> {
  const cluster = (mesh.cluster = await NetnsCluster.create());
  const serverPod = await cluster.addPod('server');
  const clientPod = await cluster.addPod('client');
  const server2Pod = o.secondServer ? await cluster.addPod('server2') : undefined;
  // Before the init step: `trellis iptables --redirect-dns` captures DNS to the servers of the pod's resolv.conf.
  if (o.dnsCapture) for (const p of [serverPod, clientPod, server2Pod]) if (p) cluster.writeResolvConf(p.name, { nameservers: [o.dnsCapture.nameserver], search: SEARCH });
  // kube-proxy's part: only traffic the sidecars do not capture (the proxy uid's) needs it.
  await cluster.addService({ clusterIp: SERVICE.clusterIp, port: SERVICE.port, target: { ip: serverPod.ip, port: SERVICE.targetPort } });
  mesh.dir = await mkdtemp(join(tmpdir(), 'trellis-e2e-'));
  // The proxies (uid 1337) read their token and the root under it.
  await chmod(mesh.dir, 0o755);
  await mkdir(join(mesh.dir, CONFIG_DIR));
  // With identity the sidecars have certificates: their pods carry the injector's tlsMode label, so auto mTLS applies.
  const tlsModeIstio = o.identity !== undefined;
  const extra = o.labels ?? {};
  const more = server2Pod ? [{ name: 'server2', ip: server2Pod.ip, app: 'web', version: 'v2', tlsModeIstio, labels: extra.server2 }] : [];
  const files = meshConfig(
    { name: 'server', ip: serverPod.ip, app: 'web', tlsModeIstio, labels: extra.server },
    { name: 'client', ip: clientPod.ip, app: 'client', tlsModeIstio, labels: extra.client },
    more,
  );
  for (const [name, text] of Object.entries(files)) await writeFile(join(mesh.dir, CONFIG_DIR, name), text);
  await startControlPlane(mesh, cluster, mesh.dir, o.identity !== undefined);
  const dns = o.dnsCapture ? { iptablesArgs: [...ISTIO_INIT_ARGS, '--redirect-dns'], proxyEnv: { ...process.env, ISTIO_META_DNS_CAPTURE: 'true' } } : {};
  const common = { trellis: TRELLIS, xdsAddress: mesh.xds as string, drainSeconds: 0, ...dns };
  const identity = async (sa: string) => (o.identity ? { identity: await podIdentity(mesh, sa, o.identity.certTtl) } : {});
  const [server, client] = await Promise.allSettled([
    MeshPod.start({ ...common, ...(await identity('web')), pod: serverPod, labels: { app: 'web', version: 'v1', ...extra.server } }),
    MeshPod.start({ ...common, ...(await identity('client')), pod: clientPod, labels: { app: 'client', version: 'v1', ...extra.client } }),
  ]);
  if (server.status === 'fulfilled') mesh.server = server.value;
  if (client.status === 'fulfilled') mesh.client = client.value;
  if (server.status === 'rejected') throw server.reason;
  if (client.status === 'rejected') throw client.reason;
  await startServerApp(mesh);
  if (server2Pod) {
    mesh.server2 = await MeshPod.start({ ...common, ...(await identity('web')), pod: server2Pod, labels: { app: 'web', version: 'v2', ...extra.server2 } });
    await waitForOutput(mesh.server2.startApp(process.execPath, [ECHO_SERVER, 'server2', String(SERVICE.targetPort)]), 'ready', 10_000, 'echo server2');
  }
}

/** (Re)starts the echo app "server" in the server pod and waits until it listens. */
export async function startServerApp(mesh: TwoPodMesh): Promise<void> {
  mesh.serverApp = mesh.server!.startApp(process.execPath, [ECHO_SERVER, 'server', String(SERVICE.targetPort)]);
  await waitForOutput(mesh.serverApp, 'ready', 10_000, 'echo server');
}

async function startControlPlane(mesh: TwoPodMesh, cluster: NetnsCluster, dir: string, ca: boolean): Promise<void> {
  const caArgs = ca ? ['--ca-dir', join(dir, CA_DIR), '--ca-port', String(CA_PORT)] : [];
  const args = [trellisBin, 'controlplane', '--config-dir', join(dir, CONFIG_DIR), '--bind', cluster.gateway, '--xds-port', String(XDS_PORT), '--debug-port', String(DEBUG_PORT), '--debounce-ms', '20', ...caArgs];
  const cp = (mesh.controlPlane = spawnInPod(cluster.nodeNetns, process.execPath, args));
  createInterface({ input: cp.stderr! }).on('line', (l) => mesh.controlPlaneStderr.push(l));
  const line = await waitForOutput(cp, '"xds"', 15_000, 'control plane');
  const ready = JSON.parse(line) as { xds: string; debug: string; ca?: string };
  mesh.xds = ready.xds;
  mesh.debug = ready.debug;
  mesh.ca = ready.ca;
}

/**
 * What the injector mounts for a pod's istio-agent: a token for its service
 * account (from the real `trellis token create`) owned by the proxy uid, and
 * the mesh root.
 */
async function podIdentity(mesh: TwoPodMesh, serviceAccount: string, certTtl: string | undefined): Promise<PodIdentity> {
  const caDir = join(mesh.dir!, CA_DIR);
  const r = spawnSync(process.execPath, [trellisBin, 'token', 'create', '--ca-dir', caDir, '--namespace', 'default', '--service-account', serviceAccount], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`trellis token create: ${r.stderr}`);
  const tokenFile = join(mesh.dir!, `token-${serviceAccount}`);
  await writeFile(tokenFile, r.stdout, { mode: 0o600 });
  await chown(tokenFile, PROXY_UID, PROXY_UID);
  return { caAddress: mesh.ca!, rootCertFile: join(caDir, 'root-cert.pem'), tokenFile, ...(certTtl ? { certTtl } : {}) };
}

/** Resolves with the first stdout line containing `text`; rejects on exit or after `timeoutMs`. */
export function waitForOutput(child: ChildProcess, text: string, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no "${text}" within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.includes(text)) { clearTimeout(timer); resolve(l); }
    });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${what} exited (${code ?? signal}): ${err}`)); });
  });
}

/** Undoes whatever startTwoPodMesh got done: processes, namespaces, the temp dir. */
export async function stopTwoPodMesh(mesh: TwoPodMesh): Promise<void> {
  await Promise.all([mesh.client?.stop(), mesh.server?.stop(), mesh.server2?.stop()]);
  const cp = mesh.controlPlane;
  if (cp && cp.exitCode === null && cp.signalCode === null) {
    const exited = new Promise((r) => cp.once('exit', r));
    cp.kill('SIGTERM');
    const timer = setTimeout(() => cp.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  await mesh.cluster?.teardown();
  if (mesh.dir) await rm(mesh.dir, { recursive: true, force: true });
}

export interface CurlReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A plain `curl -s URL` run in the pod as `uid`: the unmodified client (with request headers, if given). */
export async function curlFrom(pod: Pod, url: string, uid = DEFAULT_APP_UID, send: Record<string, string> = {}): Promise<CurlReply> {
  const h = Object.entries(send).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const r = await runInPod(pod, 'curl', ['-sS', '-D', '-', '--max-time', '5', ...h, url], { uid, timeoutMs: 8000 });
  if (r.code !== 0) throw new Error(`curl ${url} as uid ${uid} in ${pod.name}: exit ${r.code}: ${r.stderr.trim()}`);
  const cut = r.stdout.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = r.stdout.slice(0, cut).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const colon = l.indexOf(':');
    if (colon > 0) headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: r.stdout.slice(cut + 4) };
}

/** curl until `ok(reply)` (config pushes take a moment); returns the last reply. Bounded in count and time. */
export async function curlUntil(pod: Pod, url: string, ok: (r: CurlReply) => boolean, headers: Record<string, string> = {}, timeoutMs = 8000): Promise<CurlReply> {
  let r = await curlFrom(pod, url, undefined, headers);
  for (let i = 0, deadline = Date.now() + timeoutMs; i < 80 && Date.now() < deadline && !ok(r); i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = await curlFrom(pod, url, undefined, headers);
  }
  return r;
}

/** GET a control-plane debug path from inside the node namespace. */
export async function debugGet(mesh: TwoPodMesh, path: string): Promise<unknown> {
  const r = await runInPod(mesh.cluster!.nodeNetns, 'curl', ['-sS', '--fail', '--max-time', '5', `http://${mesh.debug}${path}`], { timeoutMs: 8000 });
  if (r.code !== 0) throw new Error(`debug ${path}: curl exit ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as unknown;
}
