/**
 * One pod as kubelet runs it, in Istio's order: network first (a namespace
 * or a loopback address), then — when injected — the init step and the
 * sidecar until /ready, then the app containers, with the pod's
 * environment. Readiness: the sidecar is ready and every app container is
 * running and passes its readinessProbe (httpGet, tcpSocket), or — without
 * a probe — accepts connections on its first declared containerPort once
 * (a cluster does not wait for that; here it keeps the first requests from
 * meeting a refused connection). A crashed container or sidecar is
 * restarted with back-off; meanwhile the pod is not ready.
 *
 * Ownership: a RunningPod owns its processes and its network address and
 * releases both in stop().
 */
import { randomUUID } from 'node:crypto';
import { chownSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import type { ContainerSpec, Probe, RunnablePodSpec } from '../../config/deployment.js';
import { errorMessage } from '../../errors.js';
import { logger } from '../../log.js';
import { PROXY_UID } from '../mesh-pod.js';
import { Container, MAX_RESTARTS, type ContainerState, type RestartPolicy } from './container.js';
import { containerEnv, type PodFacts } from './container-env.js';
import type { InjectionDecision } from './injection.js';
import type { ControlPlaneAddresses, PodAddress, PublishedPort, Sidecar, UpNetwork } from './network.js';
import type { GatewayPort } from './gateways.js';
import { runFiles } from './run-dir.js';
import type { PodRef } from './workloads.js';
import { RUN_ENV } from './process-sweep.js';
import type { Limiter } from './limiter.js';
import type { AmbientNode } from './ambient/ambient-node.js';

const log = logger('up');

export interface PodContext {
  network: UpNetwork;
  run: string;
  runId: string;
  /** argv prefix that runs the trellis CLI. */
  trellis: readonly string[];
  /** Working directory of every container (the config directory). */
  dir: string;
  /** The control plane as pods reach it. */
  controlPlane: () => ControlPlaneAddresses;
  rootCertFile: string;
  token: (namespace: string, serviceAccount: string) => string;
  /** Service variables for a pod (kubelet's), given its address. */
  serviceEnv: (pod: PodAddress) => Record<string, string>;
  /** Something about the pod changed (status, readiness, a crash): `event` says what, for the status log. */
  changed: (pod: RunningPod, event?: string) => void;
  /** Root in netns mode: tokens are chowned to the proxy uid. */
  chownToken: boolean;
  /**
   * Resolves once the control plane serves. Processes start after it: a
   * sidecar could not get ready before anyway, and on two cores every
   * process started meanwhile slows the control plane's own start.
   */
  controlPlaneServing: Promise<void>;
  /** Sidecar starts (and the first start of apps without one) go through this (see limiter.ts). */
  sidecarStarts: Limiter;
  /** A line for `up`'s output (a gateway's published address). */
  announce: (line: string) => void;
  /** The node's ambient dataplane: redirection in ambient pods and the node proxy serving them. */
  ambient: Pick<AmbientNode, 'enroll' | 'release'>;
}

export type PodPhase = 'Pending' | 'Running' | 'Failed' | 'Terminating';

export interface PodPlan extends PodRef {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: RunnablePodSpec;
  injection: InjectionDecision;
  /** In ambient mode (ambient/enrollment.ts): no sidecar; the node proxy serves it. */
  ambient: boolean;
  workloadName: string;
  /**
   * Set for an ingress gateway pod (gateways.ts): its proxy is a router, it
   * runs no app containers, and these ports are published on 127.0.0.1.
   */
  gateway?: { ports: GatewayPort[]; urls: string[]; waypoint?: boolean };
}

/** The PATH a container image's Dockerfile would have (Debian's). */
const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** How long a starting app holds its start slot: about a Node process's boot. */
const APP_BOOT_MS = 200;
const SIDECAR_RESTART_MS = [1000, 2000, 4000, 8000, 16_000, 30_000];

export class RunningPod {
  readonly plan: PodPlan;
  readonly uid = randomUUID();
  readonly createdAt = new Date();
  readonly #ctx: PodContext;
  address: PodAddress | undefined;
  sidecar: Sidecar | undefined;
  /** istio-proxy's state, as a container (restarts count its crashes). */
  proxyState: ContainerState = { state: 'waiting', reason: 'PodInitializing', restarts: 0, ready: false };
  containers: Container[] = [];
  phase: PodPhase = 'Pending';
  /** Why the pod is not running (a failed start). */
  message: string | undefined;
  startedAt: Date | undefined;
  #seenListening = new Set<string>();
  #lastProbe = new Map<string, number>();
  #probeTimer: NodeJS.Timeout | undefined;
  #probing = false;
  #stopping = false;
  #sidecarRestarts = 0;
  #logFds: number[] = [];
  #published: PublishedPort[] = [];

  constructor(plan: PodPlan, ctx: PodContext) {
    this.plan = plan;
    this.#ctx = ctx;
  }

  get key(): string {
    return `${this.plan.namespace}/${this.plan.name}`;
  }

  get ready(): boolean {
    const sidecarOk = !this.plan.injection.sidecar || this.proxyState.ready;
    if (this.plan.gateway) return this.phase === 'Running' && sidecarOk;
    return this.phase === 'Running' && sidecarOk && this.containers.length > 0 && this.containers.every((c) => c.state.ready);
  }

  get dir(): string {
    return runFiles.podDir(this.#ctx.run, this.plan.namespace, this.plan.name);
  }

  /** Network, sidecar, apps. Never throws: a failure leaves the pod Failed with a message (and what started stopped). */
  async start(): Promise<void> {
    const { network } = this.#ctx;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o755 });
      this.address = await network.addPod(this.plan.namespace, this.plan.name, this.plan.injection.sidecar && !this.plan.gateway);
      this.#ctx.changed(this);
      await this.#ctx.controlPlaneServing;
      if (this.#stopping) return;
      if (this.plan.injection.sidecar) await this.#startSidecar();
      // As the CNI plugin does before a pod's containers run: its traffic is the node proxy's from the first packet.
      if (this.plan.ambient) await this.#enrollAmbient();
      if (this.#stopping) return;
      if (this.plan.gateway) return await this.#runGateway();
      // Apps queue behind every waiting sidecar (a mesh waits for its proxies; an app's own start only delays them)
      // and hold a core while they boot.
      await this.#ctx.sidecarStarts.run(() => {
        this.#startContainers();
        return new Promise((r) => setTimeout(r, APP_BOOT_MS));
      }, false);
      if (this.#stopping) return;
      this.phase = 'Running';
      this.startedAt = new Date();
      this.#probeTimer = setInterval(() => void this.#probe(), 250);
      this.#ctx.changed(this, 'started');
    } catch (err) {
      this.phase = 'Failed';
      this.message = errorMessage(err);
      log.error('pod failed to start', { pod: this.key, error: this.message });
      this.#ctx.changed(this, `failed to start: ${this.message}`);
    }
  }

  /** A gateway pod: its router is ready; publish its ports, and it runs (no app containers). */
  async #runGateway(): Promise<void> {
    for (const p of this.plan.gateway!.ports) {
      try {
        const pub = await this.#ctx.network.publishPort(this.address!, p.port);
        if (this.#stopping) return void (await pub.close());
        this.#published.push(pub);
        const scheme = p.protocol === 'HTTPS' ? 'https://' : ['HTTP', 'HTTP2', 'GRPC'].includes(p.protocol) ? 'http://' : '';
        this.#ctx.announce(`ingress gateway ${this.key}: ${p.protocol} on ${scheme}${pub.address} (its port ${p.port}, Gateway ${p.gateway})`);
      } catch (err) {
        this.#ctx.changed(this, `gateway port ${p.port} not published on 127.0.0.1: ${errorMessage(err)}`);
      }
    }
    for (const u of this.plan.gateway!.urls) this.#ctx.announce(u);
    // `trellis exec` into a gateway runs in its only container, the proxy's, as kubectl exec does.
    this.#writeExecInfo([{ name: 'istio-proxy', uid: PROXY_UID, gid: PROXY_UID, cwd: this.#ctx.dir, env: { ...this.#env(), HOSTNAME: this.plan.name, HOME: '/tmp' }, argv: [] }]);
    this.phase = 'Running';
    this.startedAt = new Date();
    this.#ctx.changed(this, 'started');
  }

  #logFd(container: string): number {
    const fd = openSync(runFiles.containerLog(this.#ctx.run, this.plan.namespace, this.plan.name, container), 'a', 0o644);
    this.#logFds.push(fd);
    return fd;
  }

  /**
   * The base of every process's environment: a container image's PATH (the
   * system's python3, curl, ...; the caller's own PATH may point into a home
   * the app's user cannot read) and the run marker.
   */
  #env(): NodeJS.ProcessEnv {
    return { PATH: CONTAINER_PATH, [RUN_ENV]: this.#ctx.runId };
  }

  async #startSidecar(): Promise<void> {
    const addr = this.address!;
    const tokenFile = `${this.dir}/token`;
    writeFileSync(tokenFile, this.#ctx.token(this.plan.namespace, this.#serviceAccount()), { mode: 0o600 });
    if (this.#ctx.chownToken) chownSync(tokenFile, PROXY_UID, PROXY_UID);
    const cp = this.#ctx.controlPlane();
    const owner = this.plan.owner.kind === 'Deployment' ? `kubernetes://apis/apps/v1/namespaces/${this.plan.namespace}/deployments/${this.plan.owner.name}` : `kubernetes://apis/v1/namespaces/${this.plan.namespace}/pods/${this.plan.name}`;
    this.proxyState = { ...this.proxyState, state: 'waiting', reason: 'PodInitializing' };
    this.sidecar = await this.#ctx.sidecarStarts.run(() => this.#ctx.network.startSidecar({
      pod: addr,
      trellis: this.#ctx.trellis,
      xds: cp.xds,
      ca: cp.ca ?? cp.xds,
      rootCertFile: this.#ctx.rootCertFile,
      tokenFile,
      labels: this.plan.labels,
      workloadName: this.plan.workloadName,
      metadataEnv: {
        ISTIO_META_CLUSTER_ID: 'Kubernetes',
        ISTIO_META_MESH_ID: 'cluster.local',
        ISTIO_META_OWNER: owner,
        ISTIO_META_APP_CONTAINERS: (this.plan.spec.containers ?? []).map((c) => c.name).join(','),
        ISTIO_META_NAMESPACE: this.plan.namespace,
        ISTIO_META_SERVICE_ACCOUNT: this.#serviceAccount(),
        // A captured sidecar sends and terminates HBONE, as Istio's injector with ENABLE_HBONE (mesh.ts labels the pod for it).
        ...(addr.netns && !this.plan.gateway ? { ISTIO_META_INTERCEPTION_MODE: 'REDIRECT', ISTIO_META_ENABLE_HBONE: 'true' } : {}),
      },
      env: { ...this.#env(), ...(process.env.TRELLIS_LOG ? { TRELLIS_LOG: process.env.TRELLIS_LOG } : {}) },
      logFd: this.#logFd('istio-proxy'),
      router: this.plan.gateway !== undefined,
      waypoint: this.plan.gateway?.waypoint === true,
    }));
    this.proxyState = { state: 'running', startedAt: new Date().toISOString(), restarts: this.#sidecarRestarts, ready: true };
    this.sidecar.onExit((how) => this.#sidecarDied(how));
  }

  async #enrollAmbient(): Promise<void> {
    const a = this.address!;
    await this.#ctx.ambient.enroll({ uid: this.uid, name: this.plan.name, namespace: this.plan.namespace, serviceAccount: this.#serviceAccount(), netns: a.netns });
  }

  #sidecarDied(how: string): void {
    if (this.#stopping) return;
    if (this.#sidecarRestarts >= MAX_RESTARTS) {
      this.proxyState = { state: 'terminated', reason: 'Error', message: `istio-proxy ${how}; not restarted after ${MAX_RESTARTS} restarts`, restarts: this.#sidecarRestarts, ready: false, lastExit: how };
      this.#ctx.changed(this, `istio-proxy ${how}; given up`);
      return;
    }
    this.proxyState = { state: 'waiting', reason: 'CrashLoopBackOff', message: `istio-proxy ${how}`, restarts: this.#sidecarRestarts, ready: false, lastExit: how };
    this.#ctx.changed(this, `istio-proxy ${how}`);
    const delay = SIDECAR_RESTART_MS[Math.min(this.#sidecarRestarts, SIDECAR_RESTART_MS.length - 1)]!;
    setTimeout(() => {
      if (this.#stopping) return;
      this.#sidecarRestarts++;
      this.#startSidecar().then(() => this.#ctx.changed(this, 'istio-proxy restarted'), (err: unknown) => {
        this.#sidecarDied(`restart failed: ${errorMessage(err)}`);
      });
    }, delay);
  }

  #serviceAccount(): string {
    return this.plan.spec.serviceAccountName ?? this.plan.spec.serviceAccount ?? 'default';
  }

  /** What kubelet would put in the downward API for this pod. */
  facts(): PodFacts {
    return {
      name: this.plan.name,
      namespace: this.plan.namespace,
      uid: this.uid,
      labels: this.plan.labels,
      annotations: this.plan.annotations,
      nodeName: this.#ctx.network.nodeName,
      serviceAccountName: this.#serviceAccount(),
      podIp: this.address?.appIp ?? '',
      hostIp: this.#ctx.network.controlPlaneHost,
    };
  }

  #startContainers(): void {
    const addr = this.address!;
    const services = this.#ctx.serviceEnv(addr);
    const policy: RestartPolicy = this.plan.spec.restartPolicy ?? 'Always';
    const info: object[] = [];
    for (const c of this.plan.spec.containers ?? []) {
      const { env, argv, problems } = containerEnv(c, this.facts(), services);
      for (const p of problems) log.warn('container environment', { pod: this.key, container: c.name, problem: p });
      const uid = c.securityContext?.runAsUser ?? this.plan.spec.securityContext?.runAsUser;
      const gid = c.securityContext?.runAsGroup ?? this.plan.spec.securityContext?.runAsGroup ?? uid;
      const fullEnv = { ...this.#env(), HOSTNAME: this.plan.name, HOME: '/tmp', ...env };
      const cwd = c.workingDir ? resolveDir(this.#ctx.dir, c.workingDir) : this.#ctx.dir;
      const resolved = argv.map((a, i) => (i === 0 ? commandPath(a) : a));
      info.push({ name: c.name, uid, gid, cwd, env: fullEnv, argv: resolved });
      const fd = this.#logFd(c.name);
      const spawn = () => {
        if (resolved.length === 0) throw new Error(`container ${c.name} has no command (an image's entrypoint cannot run here: set command)`);
        return this.#ctx.network.spawnInPod(addr, resolved, { ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}), env: fullEnv, cwd, stdio: ['ignore', fd, fd] });
      };
      const container = new Container(c.name, spawn, policy, (_x, event) => this.#containerChanged(c.name, event));
      this.containers.push(container);
    }
    this.#writeExecInfo(info);
    for (const c of this.containers) c.start();
  }

  /** pod.json: what `trellis exec` runs a command as, per container. */
  #writeExecInfo(containers: object[]): void {
    const info = { namespace: this.plan.namespace, name: this.plan.name, address: this.address, sidecar: this.plan.injection.sidecar, containers };
    writeFileSync(runFiles.podInfo(this.#ctx.run, this.plan.namespace, this.plan.name), JSON.stringify(info, null, 2), { mode: 0o600 });
  }

  #containerChanged(name: string, event: string | undefined): void {
    if (event) this.#seenListening.delete(name);
    this.#ctx.changed(this, event ? `${name} ${event}` : undefined);
  }

  /** One readiness pass over the containers; overlapping passes are skipped. */
  async #probe(): Promise<void> {
    if (this.#probing || this.#stopping) return;
    this.#probing = true;
    try {
      const specs = this.plan.spec.containers ?? [];
      await Promise.all(this.containers.map(async (c, i) => {
        if (!c.running) return;
        const spec = specs[i]!;
        c.setReady(await this.#containerReady(spec));
      }));
    } finally {
      this.#probing = false;
    }
  }

  async #containerReady(c: ContainerSpec): Promise<boolean> {
    const probe = c.readinessProbe;
    if (probe && (probe.httpGet || probe.tcpSocket)) {
      const period = (probe.periodSeconds ?? 10) * 1000;
      const last = this.#lastProbe.get(c.name);
      const current = this.containers.find((x) => x.name === c.name)?.state.ready ?? false;
      // Until it first passes, probe at our own pace (a cluster waits initialDelaySeconds, then periodSeconds).
      if (current && last !== undefined && Date.now() - last < period) return current;
      this.#lastProbe.set(c.name, Date.now());
      return this.#runProbe(probe, c);
    }
    if (this.#seenListening.has(c.name)) return true;
    const port = c.ports?.[0]?.containerPort;
    if (port === undefined) return true;
    const open = await this.#ctx.network.tcpOpen(this.address!, this.address!.appIp, port);
    if (open) this.#seenListening.add(c.name);
    return open;
  }

  async #runProbe(p: Probe, c: ContainerSpec): Promise<boolean> {
    const named = (port: number | string) => (typeof port === 'number' ? port : c.ports?.find((x) => x.name === port)?.containerPort ?? Number(port));
    const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
    if (p.tcpSocket) return this.#ctx.network.tcpOpen(this.address!, this.address!.appIp, named(p.tcpSocket.port));
    const g = p.httpGet!;
    const r = await this.#ctx.network.http(this.address!, `${this.address!.appIp}:${named(g.port)}`, g.path ?? '/', { timeoutMs }).catch(() => undefined);
    return r !== undefined && r.status >= 200 && r.status < 400;
  }

  /** Apps first (SIGTERM, then SIGKILL), then the sidecar, then the network. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.phase = 'Terminating';
    clearInterval(this.#probeTimer);
    this.#ctx.changed(this);
    await Promise.all(this.containers.map((c) => c.stop(2000)));
    await Promise.all(this.#published.splice(0).map((p) => p.close().catch(() => undefined)));
    await this.sidecar?.stop().catch(() => undefined);
    // Also while its enrollment is still under way: the node proxy is then never sent it, or told to drop it.
    if (this.plan.ambient) await this.#ctx.ambient.release(this.uid).catch((err: unknown) => log.warn('node proxy did not release the pod', { pod: this.key, error: errorMessage(err) }));
    if (this.address) await this.#ctx.network.removePod(this.address).catch((err: unknown) => log.warn('pod network not removed', { pod: this.key, error: errorMessage(err) }));
    for (const fd of this.#logFds.splice(0)) closeSync(fd);
  }
}

/** "node" is the Node.js running Trellis; anything else is looked up on PATH by the child. */
function commandPath(cmd: string): string {
  return cmd === 'node' ? process.execPath : cmd;
}

function resolveDir(base: string, dir: string): string {
  return dir.startsWith('/') ? dir : `${base}/${dir}`;
}
