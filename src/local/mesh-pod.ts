/**
 * A meshed pod in the one-machine cluster, started the way Kubernetes starts
 * an injected pod: the init step (`trellis iptables`, as root with
 * NET_ADMIN) writes the capture rules, then the sidecar (`trellis proxy`)
 * runs as the proxy uid and must report /ready, and only then do the
 * application's processes start, as another uid, so that their traffic is
 * captured and the proxy's is not.
 *
 * Ownership: a MeshPod owns the proxy and every app process it started and
 * ends them in stop(); the namespace itself belongs to the NetnsCluster.
 * Used by the end-to-end tests and meant for `trellis up`.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { nativeAvailable } from '../native/original-dst.js';
import { createInterface } from 'node:readline';
import { TrellisError } from '../errors.js';
import { logger } from '../log.js';
import { httpIn, runInPod, spawnInPod, type Pod } from './netns/index.js';

const log = logger('mesh-pod');

/** The proxy's user id, exempt from capture (Istio's default). */
export const PROXY_UID = 1337;
/** The uid apps run as unless told otherwise. */
export const DEFAULT_APP_UID = 1000;

/** The flags Istio's sidecar injector gives istio-init (proxy ports 15001/15006, uid 1337, capture everything). */
export const ISTIO_INIT_ARGS: readonly string[] = [
  '-p', '15001', '-z', '15006', '-u', String(PROXY_UID), '-m', 'REDIRECT',
  '-i', '*', '-x', '', '-b', '*', '-d', '15090,15021,15020',
];

/** The node id istiod expects from a sidecar: sidecar~IP~POD.NS~NS.svc.DOMAIN (router~… for a gateway). */
export function sidecarNodeId(podName: string, podIp: string, namespace = 'default', domain = 'cluster.local', type: 'sidecar' | 'router' | 'waypoint' = 'sidecar'): string {
  return `${type}~${podIp}~${podName}.${namespace}~${namespace}.svc.${domain}`;
}

export interface MeshPodOptions {
  pod: Pod;
  /** The argv prefix that runs the trellis CLI, e.g. [process.execPath, '/…/dist/bundle/main.js']. */
  trellis: readonly string[];
  /** The control plane's ADS address, reachable from inside the pod. */
  xdsAddress: string;
  /** Kubernetes namespace of the pod (default "default"). */
  namespace?: string;
  /** Kubernetes name of the pod, for the node id (default: the NetnsCluster pod's name). */
  podName?: string;
  /** Default ISTIO_INIT_ARGS. */
  iptablesArgs?: readonly string[];
  /** Default 15000. */
  adminPort?: number;
  /** Default 1: how long a stopping proxy lets connections drain. */
  drainSeconds?: number;
  /** Default 15000: from the proxy's start until /ready answers LIVE. */
  readyTimeoutMs?: number;
  /** The pod's labels, announced as node metadata LABELS (the proxy's metrics use app). */
  labels?: Readonly<Record<string, string>>;
  /** The workload name for metrics (what the injector puts in ISTIO_META_WORKLOAD_NAME); default the pod name. */
  workloadName?: string;
  /** Environment of the proxy (e.g. TRELLIS_LOG); the parent's by default. The metadata above is added to it. */
  proxyEnv?: NodeJS.ProcessEnv;
  /** The certificate agent's inputs (files readable by the proxy uid); absent, the proxy runs without one. */
  identity?: PodIdentity;
  /**
   * Where the proxy writes stdout and stderr (file descriptors, e.g. a log
   * file opened for appending); by default both are piped and kept in
   * proxyStdout/proxyStderr (fine for a test, unbounded for a long run).
   */
  proxyOutput?: number;
  /** A supervisor's child: the proxy dies with its parent and has its own process group (PodProcessOptions.pdeathsig, detached). */
  supervised?: boolean;
  /**
   * The init step, when the caller runs it itself (the same rules, e.g.
   * applyCapture with `netns`, started before the control plane serves);
   * by default a `trellis iptables` process in the pod, as istio-init.
   */
  init?: (pod: Pod) => Promise<void>;
  /** The proxy's node type: a sidecar (default), a gateway's router or a waypoint. */
  nodeType?: 'sidecar' | 'router' | 'waypoint';
}

/** What the injector mounts for istio-agent: the CA's address, the mesh root, the workload token. */
export interface PodIdentity {
  caAddress: string;
  rootCertFile: string;
  tokenFile: string;
  /** Requested certificate lifetime (e.g. "30s" in rotation tests); the CA's default otherwise. */
  certTtl?: string;
}

export interface AppOptions {
  /** Default DEFAULT_APP_UID. */
  uid?: number;
  env?: NodeJS.ProcessEnv;
}

/** An admin API answer from inside the pod. */
export interface AdminReply {
  status: number;
  body: string;
}

export class MeshPod {
  readonly pod: Pod;
  readonly nodeId: string;
  readonly adminPort: number;
  /** The proxy's stdout lines so far (the access log and its start line). */
  readonly proxyStdout: string[] = [];
  /** The proxy's stderr lines so far (its logs), for diagnostics. */
  readonly proxyStderr: string[] = [];
  #proxy: ChildProcess | undefined;
  readonly #apps: ChildProcess[] = [];
  #startedAt = 0;
  /** Milliseconds from the proxy's spawn to its first /ready 200 (set once ready). */
  readyMs: number | undefined;

  private constructor(pod: Pod, nodeId: string, adminPort: number) {
    this.pod = pod;
    this.nodeId = nodeId;
    this.adminPort = adminPort;
  }

  /** How the proxy ended ("exit 1", "SIGSEGV"), or undefined while it runs. */
  get proxyExit(): string | undefined {
    const p = this.#proxy;
    if (!p || (p.exitCode === null && p.signalCode === null)) return undefined;
    return p.signalCode ?? `exit ${p.exitCode}`;
  }

  /**
   * Init step, sidecar, readiness: resolves once the proxy answers /ready.
   * On failure everything started so far is stopped and the error says
   * which step failed, with the process's own words.
   */
  static async start(opts: MeshPodOptions): Promise<MeshPod> {
    const nodeId = sidecarNodeId(opts.podName ?? opts.pod.name, opts.pod.ip, opts.namespace ?? 'default', 'cluster.local', opts.nodeType);
    const mp = new MeshPod(opts.pod, nodeId, opts.adminPort ?? 15000);
    try {
      await mp.#init(opts);
      mp.#startProxy(opts);
      await mp.#waitReady(opts.readyTimeoutMs ?? 15_000);
    } catch (err) {
      await mp.stop();
      throw err;
    }
    log.info('pod meshed', { pod: opts.pod.name, nodeId });
    return mp;
  }

  async #init(opts: MeshPodOptions): Promise<void> {
    if (opts.init) {
      await opts.init(this.pod).catch((err: unknown) => {
        throw new TrellisError('IO', `pod ${this.pod.name}: init step (capture rules) failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      });
      return;
    }
    const [bin, ...pre] = opts.trellis;
    const args = [...pre, 'iptables', ...(opts.iptablesArgs ?? ISTIO_INIT_ARGS)];
    const r = await runInPod(this.pod, bin as string, args, { timeoutMs: 20_000 });
    if (r.code !== 0) {
      throw new TrellisError('IO', `pod ${this.pod.name}: init step trellis iptables failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
  }

  #startProxy(opts: MeshPodOptions): void {
    const [bin, ...pre] = opts.trellis;
    const args = [
      ...pre, 'proxy', '--xds-address', opts.xdsAddress, '--node-id', this.nodeId,
      '--admin-port', String(this.adminPort), '--drain-seconds', String(opts.drainSeconds ?? 1),
      ...identityArgs(opts.identity),
    ];
    const out = opts.proxyOutput;
    const stdio: SpawnOptions['stdio'] = out === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', out, out];
    const proxy = spawnInPod(this.pod, bin as string, args, { uid: PROXY_UID, env: proxyEnv(opts), stdio, pdeathsig: opts.supervised ?? false, detached: opts.supervised ?? false });
    this.#proxy = proxy;
    this.#startedAt = performance.now();
    if (proxy.stdout) createInterface({ input: proxy.stdout }).on('line', (l) => this.proxyStdout.push(l));
    if (proxy.stderr) createInterface({ input: proxy.stderr }).on('line', (l) => this.proxyStderr.push(l));
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
      const p = this.#proxy;
      if (!p || p.exitCode !== null || p.signalCode !== null) {
        throw new TrellisError('IO', `pod ${this.pod.name}: proxy exited (${p?.exitCode ?? p?.signalCode}): ${this.proxyStderr.slice(-10).join('\n')}`);
      }
      const r = await this.admin('/ready', 2000).catch((err: unknown) => ({ status: 0, body: String(err) }));
      if (r.status === 200) {
        this.readyMs = performance.now() - this.#startedAt;
        return;
      }
      last = `${r.status} ${r.body.trim()}`;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new TrellisError('IO', `pod ${this.pod.name}: proxy not ready within ${timeoutMs} ms (last /ready: ${last}); stderr: ${this.proxyStderr.slice(-10).join('\n')}`);
  }

  /** The proxy's child process (undefined after stop()). */
  get proxy(): ChildProcess | undefined {
    return this.#proxy;
  }

  /**
   * GET (or POST) an admin path of the proxy. The admin API listens on
   * 127.0.0.1 inside the pod, so the request is made from inside it: over a
   * socket created in the pod's namespace, or by curl run there as root
   * without the native addon (loopback traffic is never captured).
   */
  async admin(path: string, timeoutMs = 5000, method: 'GET' | 'POST' = 'GET'): Promise<AdminReply> {
    // In-process through a socket made in the pod when the addon can (no curl to spawn: /ready is polled every 50 ms).
    if (nativeAvailable().ok) return httpIn(this.pod.netns, `127.0.0.1:${this.adminPort}`, path, { method, timeoutMs });
    const secs = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    const url = `http://127.0.0.1:${this.adminPort}${path}`;
    const r = await runInPod(this.pod, 'curl', ['-sS', '-X', method, '--max-time', secs, '-w', '\n%{http_code}', url], { timeoutMs: timeoutMs + 1000 });
    if (r.code !== 0) throw new TrellisError('IO', `admin ${path} in pod ${this.pod.name}: curl exit ${r.code}: ${r.stderr.trim()}`);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
  }

  /** Starts an application process in the pod as `uid` (captured by the sidecar); stopped by stop(). */
  startApp(cmd: string, args: readonly string[], opts: AppOptions = {}): ChildProcess {
    const child = spawnInPod(this.pod, cmd, args, { uid: opts.uid ?? DEFAULT_APP_UID, env: opts.env ?? process.env });
    this.#apps.push(child);
    return child;
  }

  /** Ends the apps (SIGKILL) and the proxy (SIGTERM, SIGKILL after 3 s). Safe to call twice. */
  async stop(): Promise<void> {
    await Promise.all(this.#apps.splice(0).map((c) => endChild(c, 'SIGKILL', 0)));
    const proxy = this.#proxy;
    this.#proxy = undefined;
    if (proxy) await endChild(proxy, 'SIGTERM', 3000);
  }
}

/** The sidecar's environment: the injector's node metadata variables on top of the given one. */
function proxyEnv(opts: MeshPodOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(opts.proxyEnv ?? process.env), ISTIO_META_WORKLOAD_NAME: opts.workloadName ?? opts.pod.name };
  if (opts.labels) env.ISTIO_META_LABELS = JSON.stringify(opts.labels);
  return env;
}

function identityArgs(id: PodIdentity | undefined): string[] {
  if (!id) return [];
  const args = ['--ca-address', id.caAddress, '--root-cert', id.rootCertFile, '--token-file', id.tokenFile];
  return id.certTtl ? [...args, '--cert-ttl', id.certTtl] : args;
}

/** Sends `signal`, then SIGKILL after `graceMs`; resolves when the child has exited. */
function endChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
