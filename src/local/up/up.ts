/**
 * `trellis up DIR`: a whole mesh on one machine, in the foreground.
 *
 *   1. mode: netns (root, Linux, the native addon, ip/iptables/setpriv) or loopback
 *   2. stale leftovers of crashed runs removed (and reported)
 *   3. DIR loaded and watched (the control plane's loader: file:line problems)
 *   4. the network (node namespace, or a claimed 127.N/16), a new CA, tokens
 *   5. the control plane and the pods, in parallel (sidecars retry until it serves)
 *   6. the state file, then the live status until SIGINT/SIGTERM
 *   7. teardown: pods, control plane, network, leftover processes, files
 *
 * Edits to DIR are followed: the control plane reloads routing by itself;
 * new, removed and rescaled Deployments (and changed templates) re-plan pods.
 */
import { mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { openCaDir } from '../../ca/ca-dir.js';
import { LocalTokenIssuer } from '../../ca/token.js';
import { DEFAULT_SERVICE_CIDR, parseServiceCidr } from '../../config/cluster-ip.js';
import { ClusterIpSource } from '../../controlplane/sources/cluster-ip-source.js';
import { DirectorySource } from '../../controlplane/sources/directory-source.js';
import type { ConfigState } from '../../controlplane/sources/source.js';
import type { ConfigProblem } from '../../config/config-problem.js';
import { TrellisError, errorMessage } from '../../errors.js';
import { newRunId } from '../netns/index.js';
import { removeStateFile, stateFilePath, type MeshState, type MeshStateNodeProxy, type MeshStatePod } from '../state-file.js';
import { ControlPlaneProcess } from './control-plane-process.js';
import { LoopbackNetwork } from './loopback/network.js';
import { Mesh } from './mesh.js';
import { Limiter } from './limiter.js';
import { NetnsNetwork } from './netns-network.js';
import type { ControlPlaneAddresses, UpNetwork } from './network.js';
import { killRunProcesses, RUN_ENV } from './process-sweep.js';
import { atomicWrite, Publisher } from './publisher.js';
import { withDefaultIngress, withWaypoints } from './gateways.js';
import { stringify } from 'yaml';
import type { AnyObject } from '../../config/objects.js';
import { runDirPath, runFiles, writeRunInfo, type UpMode } from './run-dir.js';
import { sweepStale } from './stale.js';
import { checkStateFile, chooseMode } from './preflight.js';
import { StatusOutput } from './status/output.js';
import { StatusPoller } from './status/poller.js';
import { renderStatus } from './status/render.js';
import { env } from '../../env.js';
import { AmbientNode } from './ambient/ambient-node.js';
import { NODE_PROXY_ACCOUNT, NODE_PROXY_ADMIN_PORT, nodeProxyCommand, nodeProxyName, nodeProxyToken } from './ambient/node-proxy-argv.js';
import { dashboardStaticDir, DEFAULT_DASHBOARD_PORT, startDashboard, type Dashboard } from '../../dashboard/dashboard.js';

export interface UpOptions {
  dir: string;
  /** Loopback mode even as root. */
  loopback: boolean;
  /** Plain output: the status block every this many ms. */
  statusEveryMs: number;
  /** The argv prefix that runs this CLI (node and the bundle). */
  trellis: readonly string[];
}

const TEARDOWN_MS = 20_000;
const EVENTS_KEPT = 8;

function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}: ${p.reason}`;
}

export async function runUp(o: UpOptions): Promise<number> {
  const out = new StatusOutput(process.stdout, o.statusEveryMs);
  const dir = resolve(o.dir);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new TrellisError('CLI_USAGE', `${dir} is not a directory`);
  const stateFile = stateFilePath();
  checkStateFile(stateFile);
  const { mode, why } = chooseMode(o.loopback);
  const nodeProxy = nodeProxyCommand(o.trellis, env.upNodeProxy);
  const step = (s: string) => out.line(`✓ ${s}`);
  for (const line of await sweepStale(mode === 'netns')) step(`removed leftovers of a crashed run: ${line}`);

  const runId = newRunId();
  const run = runDirPath(runId);
  writeRunInfo(run, { pid: process.pid, runId, mode, dir, startedAt: new Date().toISOString(), stateFile });
  const up = new Up(o, out, dir, runId, run, stateFile, mode, nodeProxy);
  const stopOnSignal = (signal: NodeJS.Signals) => void up.shutdown(signal === 'SIGINT' ? 130 : 143, `${signal}`);
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);
  process.on('SIGHUP', stopOnSignal);
  // A bug must not leave namespaces and processes behind: tear down, then fail.
  process.on('uncaughtException', (err) => {
    out.line(`✗ internal error: ${err.stack ?? err.message}`);
    void up.shutdown(1, 'internal error');
  });
  try {
    await up.start(why);
  } catch (err) {
    out.line(`✗ ${errorMessage(err)}`);
    await up.shutdown(1, 'start-up failed');
  }
  return up.done;
}

class Up {
  readonly #o: UpOptions;
  readonly #out: StatusOutput;
  readonly #dir: string;
  readonly #startedAt = new Date().toISOString();
  readonly #runId: string;
  readonly #run: string;
  readonly #stateFile: string;
  readonly #mode: UpMode;
  readonly #nodeProxy: readonly string[];
  #network: UpNetwork | undefined;
  #ambient: AmbientNode | undefined;
  #cp: ControlPlaneProcess | undefined;
  #published: ControlPlaneAddresses | undefined;
  #mesh: Mesh | undefined;
  #source: ClusterIpSource | undefined;
  #publisher: Publisher | undefined;
  #poller: StatusPoller | undefined;
  #dashboard: Dashboard | undefined;
  #timer: NodeJS.Timeout | undefined;
  #events: string[] = [];
  #problems = new Set<string>();
  #initialDone = false;
  #serving = false;
  #shutdown: Promise<void> | undefined;
  #exit: (code: number) => void = () => undefined;
  #code = 0;
  readonly done: Promise<number>;
  #syncedReported = false;
  #ingressText = '';

  constructor(o: UpOptions, out: StatusOutput, dir: string, runId: string, run: string, stateFile: string, mode: UpMode, nodeProxy: readonly string[]) {
    this.#o = o;
    this.#out = out;
    this.#dir = dir;
    this.#runId = runId;
    this.#run = run;
    this.#stateFile = stateFile;
    this.#mode = mode;
    this.#nodeProxy = nodeProxy;
    this.done = new Promise((r) => (this.#exit = r));
  }

  #step(s: string, since?: number): void {
    this.#out.line(`✓ ${s}${since !== undefined ? ` (${((performance.now() - since) / 1000).toFixed(1)} s)` : ''}`);
  }

  #event(e: string): void {
    const at = new Date().toISOString().slice(11, 19);
    this.#events.push(`${at} ${e}`);
    if (this.#events.length > EVENTS_KEPT) this.#events.shift();
    if (!this.#out.tty) this.#out.line(`event ${at} ${e}`);
  }

  async start(why: string | undefined): Promise<void> {
    const t = performance.now();
    const net = await this.#openNetwork(why);
    // The control plane loads DIR itself: it starts first, and our own load overlaps its start.
    const serving = this.#startControlPlane(net);
    const first = await this.#loadConfig();
    this.#mesh = this.#newMesh(net, serving.then(() => undefined));
    this.#publisher = new Publisher(this.#run, { snapshots: () => this.#mesh?.snapshots() ?? [], services: () => this.#mesh?.services() ?? [], state: () => this.#state() }, this.#stateFile);
    const podsStart = performance.now();
    const podsStarted = this.#apply(first.objects).then(() => {
      this.#initialDone = true;
      const pods = this.#mesh!.pods();
      const failed = pods.filter((p) => p.phase === 'Failed');
      this.#step(`pods: ${pods.length} started (${pods.filter((p) => p.plan.injection.sidecar).length} with sidecars, ${pods.filter((p) => p.plan.ambient).length} ambient${failed.length ? `, ${failed.length} FAILED: ${failed.map((p) => `${p.key}: ${p.message}`).join('; ')}` : ''})`, podsStart);
    });
    const [cp] = await Promise.all([serving, podsStarted]);
    this.#published = await net.publish(cp.addresses);
    this.#serving = true;
    this.#publisher.flush();
    this.#step(`serving: state file ${this.#stateFile} (control plane debug ${this.#published.debug}); Ctrl-C tears everything down`, t);
    await this.#startDashboard();
    this.#startStatus();
  }

  /** The network, the run's cluster directory (an empty pods.yaml) and a new CA. */
  async #openNetwork(why: string | undefined): Promise<UpNetwork> {
    this.#network = this.#mode === 'netns' ? await NetnsNetwork.create(this.#runId) : LoopbackNetwork.create(this.#runId);
    this.#step(`run ${this.#runId} (files in ${this.#run}): ${this.#network.description}${why ? ` [${why}]` : ''}`);
    mkdirSync(runFiles.clusterDir(this.#run), { recursive: true, mode: 0o755 });
    writeFileSync(runFiles.pods(this.#run), '# no pods yet\n', { mode: 0o644 });
    openCaDir(runFiles.caDir(this.#run), { trustDomain: 'cluster.local', keyType: 'ec' });
    return this.#network;
  }

  #startControlPlane(net: UpNetwork): Promise<ControlPlaneProcess> {
    const cpStart = performance.now();
    const started = ControlPlaneProcess.start(net, {
      trellis: this.#o.trellis,
      configDirs: [this.#dir, runFiles.clusterDir(this.#run)],
      caDir: runFiles.caDir(this.#run),
      serviceCidr: DEFAULT_SERVICE_CIDR,
      logFile: runFiles.controlPlaneLog(this.#run),
      env: { ...process.env, [RUN_ENV]: this.#runId },
    }, (e) => this.#event(e)).then((cp) => {
      this.#cp = cp;
      this.#step(`control plane: xDS ${cp.addresses.xds}, CA ${cp.addresses.ca ?? '-'}, debug ${cp.addresses.debug}`, cpStart);
      return cp;
    });
    // Pods waiting for it when it fails must not leave an unhandled rejection; start() sees the failure.
    started.catch(() => undefined);
    return started;
  }

  /** DIR through the control plane's own loader and allocator: the pods and Services planned here are the ones it sees. */
  async #loadConfig(): Promise<ConfigState> {
    this.#source = new ClusterIpSource(new DirectorySource(this.#dir), parseServiceCidr(DEFAULT_SERVICE_CIDR));
    let first: ConfigState | undefined;
    await this.#source.start((state) => {
      if (!first) first = state;
      else void this.#configChanged(state);
    });
    this.#reportProblems(first!, true);
    this.#step(`config: ${first!.objects.size} objects from ${this.#dir}${first!.problems.length ? `, ${first!.problems.length} problem(s) above` : ''}`);
    return first!;
  }

  #newMesh(net: UpNetwork, controlPlaneServing: Promise<void>): Mesh {
    const caDir = runFiles.caDir(this.#run);
    const issuer = LocalTokenIssuer.open(caDir);
    const host = net.controlPlaneHost;
    const podSide: ControlPlaneAddresses = { xds: `${host}:${net.controlPlanePorts.xds}`, debug: `${host}:${net.controlPlanePorts.debug}`, ca: `${host}:${net.controlPlanePorts.ca}` };
    controlPlaneServing.catch(() => undefined);
    this.#ambient = new AmbientNode({
      network: net,
      runId: this.#runId,
      run: this.#run,
      command: this.#nodeProxy,
      controlPlane: () => podSide,
      rootCertFile: `${caDir}/root-cert.pem`,
      token: () => issuer.createToken(nodeProxyToken(net.nodeName, 24 * 3600)),
      // Its start and its exit are events: the state file's nodeProxies changes with them.
      event: (e) => {
        this.#event(e);
        this.#publisher?.changed();
      },
    });
    return new Mesh({
      network: net,
      run: this.#run,
      runId: this.#runId,
      trellis: this.#o.trellis,
      dir: this.#dir,
      controlPlane: () => podSide,
      rootCertFile: `${caDir}/root-cert.pem`,
      token: (ns, sa) => issuer.createToken({ namespace: ns, serviceAccount: sa, ttlSeconds: 24 * 3600, audience: 'istio-ca' }),
      chownToken: this.#mode === 'netns',
      controlPlaneServing,
      sidecarStarts: new Limiter(availableParallelism()),
      announce: (line) => this.#step(line),
      ambient: this.#ambient,
      changed: (event) => {
        if (event) this.#event(event);
        this.#publisher?.changed();
      },
    });
  }

  #state(): MeshState | undefined {
    if (!this.#serving || !this.#published || !this.#mesh) return undefined;
    return {
      pid: process.pid,
      startedAt: this.#startedAt,
      configDir: this.#dir,
      controlPlane: this.#published,
      pods: this.#statePods(),
      ...(this.#ambient?.pid !== undefined ? { nodeProxies: [this.#stateNodeProxy(this.#ambient.pid)] } : {}),
    };
  }

  /** The node proxy as the CLI finds it: its admin API on 127.0.0.1 in the node namespace, where it runs. */
  #stateNodeProxy(pid: number): MeshStateNodeProxy {
    const node = this.#network!.nodeName;
    return { name: nodeProxyName(node), namespace: NODE_PROXY_ACCOUNT.namespace, node, admin: `127.0.0.1:${NODE_PROXY_ADMIN_PORT}`, ...(this.#mode === 'netns' ? { netns: node } : {}), pid };
  }

  /** The pods as the state file names them: where each is and where its proxy's admin API listens. */
  #statePods(): MeshStatePod[] {
    return this.#mesh!.pods().filter((p) => p.address).map((p) => ({
      name: p.plan.name,
      namespace: p.plan.namespace,
      ip: p.address!.ip,
      ...(p.sidecar ? { admin: p.sidecar.admin } : {}),
      ...(p.address!.netns ? { netns: p.address!.netns } : {}),
      node: this.#network!.nodeName,
    }));
  }

  #reportProblems(state: ConfigState, initial: boolean): void {
    const now = new Set(state.problems.map(formatProblem));
    for (const p of now) if (!this.#problems.has(p)) (initial ? this.#out.line(`! ${p}`) : this.#event(`config: ${p}`));
    this.#problems = now;
  }

  async #configChanged(state: ConfigState): Promise<void> {
    this.#reportProblems(state, false);
    if (!this.#mesh || this.#shutdown) return;
    await this.#apply(state.objects);
    this.#publisher?.changed();
  }

  /**
   * The config as the mesh runs it: with Istio's default ingress gateway when a Gateway wants one
   * (gateways.ts). Its Service goes to the run's cluster directory, so the control plane maps the
   * Gateway's ports as it would in a cluster (80 → 8080).
   */
  #apply(objects: ReadonlyMap<string, AnyObject>): Promise<void> {
    const ingress = withDefaultIngress(objects);
    // Waypoint Gateways get their Deployment and Service as istiod's deployment controller makes them.
    const waypoints = withWaypoints(ingress.objects);
    const all = waypoints.objects;
    const added = [...ingress.added, ...waypoints.added];
    const services = added.filter((o) => o.kind === 'Service').map((o) => stringify(o)).join('---\n');
    const text = services || '# no default ingress gateway, no waypoint\n';
    // Unchanged, untouched: a write would make the control plane's watcher rescan for nothing.
    if (text !== this.#ingressText) atomicWrite(join(runFiles.clusterDir(this.#run), 'ingress-gateway.yaml'), (this.#ingressText = text));
    return this.#mesh!.apply(all);
  }

  /** The dashboard on 127.0.0.1 (Kiali's port, or any when taken: runs may overlap); a failure is an event, not a failed start. */
  async #startDashboard(): Promise<void> {
    const published = this.#published!;
    const locator = { source: `trellis up run ${this.#runId}`, controlPlane: published.debug, pods: () => Promise.resolve(this.#statePods()) };
    try {
      // Fed by the status poller (#startStatus): it reads every proxy anyway.
      this.#dashboard = await startDashboard({
        locator,
        port: DEFAULT_DASHBOARD_PORT,
        anyPortIfTaken: true,
        staticDir: dashboardStaticDir(this.#o.trellis[1]!),
      });
      this.#step(`dashboard: ${this.#dashboard.url}`);
    } catch (err) {
      this.#event(`dashboard not started: ${errorMessage(err)}`);
    }
  }

  #startStatus(): void {
    const cp = () => this.#cp;
    this.#poller = new StatusPoller({
      mesh: this.#mesh!,
      network: this.#network!,
      controlPlane: cp,
      runId: this.#runId,
      dir: this.#dir,
      modeLine: this.#mode === 'netns' ? 'netns mode (kernel capture)' : 'loopback mode (NO kernel capture: apps reach services through their SERVICE_HOST variables only)',
      controlPlaneLine: () => {
        const c = this.#cp;
        const state = c?.running ? 'running' : 'NOT RUNNING';
        return `${c?.addresses.xds ?? '-'} ${state}${c && c.restarts > 0 ? ` (${c.restarts} restarts)` : ''}`;
      },
      initialPodsCreated: () => this.#initialDone,
      nodeProxy: () => {
        const pid = this.#ambient?.pid;
        return pid === undefined ? undefined : { pid, proxy: `${nodeProxyName(this.#network!.nodeName)}.${NODE_PROXY_ACCOUNT.namespace}` };
      },
      dashboard: () => this.#dashboard,
      events: () => this.#events,
    });
    const tick = async () => {
      if (this.#shutdown) return;
      await this.#poller!.poll().catch(() => undefined);
      const synced = this.#poller!.allSyncedMs;
      if (synced !== undefined && !this.#syncedReported) {
        this.#syncedReported = true;
        const ready = this.#mesh!.pods().flatMap((p) => (p.sidecar?.readyMs !== undefined ? [p.sidecar.readyMs] : []));
        this.#step(`all proxies SYNCED ${(synced / 1000).toFixed(1)} s after start; sidecars ready ${ready.length ? `${Math.round(Math.min(...ready))}–${Math.round(Math.max(...ready))} ms` : '-'} after their start`);
      }
      if (!this.#shutdown) this.#out.block(renderStatus(this.#poller!.model()));
      // Fast until every proxy is SYNCED (the start-up number is measured here), then once a second.
      if (!this.#shutdown) this.#timer = setTimeout(() => void tick(), synced === undefined ? 100 : 1000);
    };
    void tick();
  }

  /** Tears everything down once (bounded); resolves `done` with `code`. */
  shutdown(code: number, why: string): Promise<void> {
    if (this.#shutdown) {
      // A second Ctrl-C: stop waiting for graceful exits.
      killRunProcesses(this.#runId);
      return this.#shutdown;
    }
    this.#code = code;
    this.#shutdown = this.#teardown(why).finally(() => this.#exit(this.#code));
    return this.#shutdown;
  }

  async #teardown(why: string): Promise<void> {
    clearTimeout(this.#timer);
    this.#out.end();
    this.#out.line(`tearing down (${why})…`);
    const t = performance.now();
    this.#cp?.halt();
    const graceful = (async () => {
      await this.#dashboard?.close();
      await this.#source?.stop().catch(() => undefined);
      this.#publisher?.close();
      if (this.#serving) removeStateFile(this.#stateFile);
      await this.#mesh?.stop();
      await this.#ambient?.stop();
      await this.#cp?.stop();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([graceful.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), TEARDOWN_MS)))]);
    clearTimeout(timer);
    const killed = killRunProcesses(this.#runId);
    await this.#network?.close().catch((err: unknown) => this.#out.line(`! network teardown: ${errorMessage(err)}`));
    if (this.#serving) removeStateFile(this.#stateFile);
    rmSync(this.#run, { recursive: true, force: true });
    this.#out.line(`✓ torn down in ${((performance.now() - t) / 1000).toFixed(1)} s${timedOut ? ' (graceful stop timed out)' : ''}${killed ? `, ${killed} leftover process(es) killed` : ''}: no namespace, rule, process or file of run ${this.#runId} is left`);
  }
}

/** The bundled demo (examples/demo beside the built CLI). */
export function bundledDemoDir(mainScript: string): string {
  return resolve(realpathSync(mainScript), '..', '..', '..', 'examples', 'demo');
}
