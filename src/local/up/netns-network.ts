/**
 * netns mode: the one-machine cluster of network namespaces (NetnsCluster)
 * with real capture. The control plane runs in the node namespace on
 * Istio's ports at the bridge address (the only address pods reach); relays
 * on this machine's 127.0.0.1 make it reachable for the CLI. Each pod is a
 * namespace; a sidecar is started by MeshPod (trellis iptables, then trellis
 * proxy as uid 1337 until /ready); Services are kube-proxy's DNAT rules in
 * the node namespace; each pod's /etc/hosts names the Services as cluster
 * DNS would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { MeshPod, DEFAULT_APP_UID, ISTIO_INIT_ARGS } from '../mesh-pod.js';
import { applyCapture, buildCaptureRules, detectBackend, parseIptablesArgs, renderRestore, type Backend } from '../../iptables/index.js';
import { run } from '../../iptables/exec.js';
import { TrellisError } from '../../errors.js';
import { NetnsCluster, httpIn, podCommand, tcpOpenIn, type Pod } from '../netns/index.js';
import type { ServiceRule } from '../netns/index.js';
import { Relay } from './relay.js';
import { Limiter } from './limiter.js';
import type { ControlPlaneAddresses, PodAddress, PodProcessSpec, PublishedPort, Sidecar, SidecarOptions, UpNetwork } from './network.js';
import type { ServicePortBackends } from './endpoints.js';

const SERVICE_CIDR = '10.96.0.0/16';
const INIT_CONFIG = parseIptablesArgs(ISTIO_INIT_ARGS).config;

export class NetnsNetwork implements UpNetwork {
  readonly mode = 'netns' as const;
  readonly controlPlanePorts = { xds: 15010, debug: 15014, ca: 15012 };
  readonly #cluster: NetnsCluster;
  readonly #relays: Relay[] = [];
  readonly #setup = new Limiter(1);
  /** The init step of each sidecar pod, started when its namespace is made (see addPod). */
  readonly #inits = new Map<string, Promise<void>>();

  private constructor(cluster: NetnsCluster) {
    this.#cluster = cluster;
  }

  /** Creates the node namespace; stale namespaces were already swept by the caller. */
  static async create(runId: string): Promise<NetnsNetwork> {
    return new NetnsNetwork(await NetnsCluster.create({ runId, serviceCidr: SERVICE_CIDR, removeStale: false }));
  }

  get nodeName(): string {
    return this.#cluster.nodeNetns;
  }

  get description(): string {
    return `netns mode: node namespace ${this.#cluster.nodeNetns} (pods 10.244.0.0/24 on a bridge, services ${SERVICE_CIDR}), kernel capture with iptables`;
  }

  get controlPlaneHost(): string {
    return this.#cluster.gateway;
  }

  spawnControlPlane(argv: readonly string[], spec: Omit<PodProcessSpec, 'uid' | 'gid'>): ChildProcess {
    return spawnArgv(podCommand(this.#cluster.nodeNetns, argv[0]!, argv.slice(1), { pdeathsig: true }), spec);
  }

  async publish(cp: ControlPlaneAddresses): Promise<ControlPlaneAddresses> {
    const relay = async (address: string) => {
      const i = address.lastIndexOf(':');
      const r = await Relay.start(this.#cluster.nodeNetns, address.slice(0, i), Number(address.slice(i + 1)));
      this.#relays.push(r);
      return r.address;
    };
    return { xds: await relay(cp.xds), debug: await relay(cp.debug), ...(cp.ca ? { ca: await relay(cp.ca) } : {}) };
  }

  async addPod(namespace: string, name: string, sidecar: boolean): Promise<PodAddress> {
    // One pod at a time: a dozen `ip` and iptables processes at once would take the cores the control plane is
    // starting on, and each pod's set-up is short.
    const pod = await this.#setup.run(() => this.#cluster.addPod(`${name}.${namespace}`));
    // istio-init's rules (the flags the injector gives it), written now: they need only the namespace, and
    // in-process they cost no Node start per pod while the control plane is starting.
    if (sidecar) {
      const init = this.#setup.run(() => freshCapture(pod.netns));
      init.catch(() => undefined);
      this.#inits.set(pod.netns, init);
    }
    return { namespace, name, ip: pod.ip, appIp: pod.ip, netns: pod.netns };
  }

  async removePod(pod: PodAddress): Promise<void> {
    this.#inits.delete(pod.netns!);
    await this.#cluster.removePod(`${pod.name}.${pod.namespace}`);
  }

  serviceHost(_pod: PodAddress, clusterIp: string): string {
    return clusterIp;
  }

  servicePort(port: number): number {
    return port;
  }

  async setServices(backends: readonly ServicePortBackends[]): Promise<void> {
    const rules: ServiceRule[] = backends
      .filter((b) => b.service.spec?.clusterIP && b.service.spec.clusterIP !== 'None')
      .map((b) => ({
        name: `${b.service.metadata.namespace ?? 'default'}/${b.service.metadata.name}:${b.port}`,
        clusterIp: b.service.spec.clusterIP!,
        port: b.port,
        protocol: b.protocol,
        backends: b.backends,
      }));
    await this.#cluster.setServices(rules);
  }

  setHosts(pod: PodAddress, entries: Readonly<Record<string, string>>): void {
    this.#cluster.writeHosts(`${pod.name}.${pod.namespace}`, { [pod.name]: pod.ip, ...entries });
  }

  spawnInPod(pod: PodAddress, argv: readonly string[], spec: PodProcessSpec): ChildProcess {
    const uid = spec.uid ?? DEFAULT_APP_UID;
    return spawnArgv(podCommand(pod.netns!, argv[0]!, argv.slice(1), { uid, gid: spec.gid ?? uid, pdeathsig: true }), spec);
  }

  execArgv(pod: PodAddress, argv: readonly string[], uid: number | undefined): string[] {
    return podCommand(pod.netns!, argv[0]!, argv.slice(1), { uid: uid ?? DEFAULT_APP_UID });
  }

  async startSidecar(o: SidecarOptions): Promise<Sidecar> {
    const pod: Pod = { name: `${o.pod.name}.${o.pod.namespace}`, netns: o.pod.netns!, ip: o.pod.ip };
    const mp = await MeshPod.start({
      pod,
      trellis: o.trellis,
      xdsAddress: o.xds,
      namespace: o.pod.namespace,
      podName: o.pod.name,
      drainSeconds: 1,
      labels: o.labels,
      workloadName: o.workloadName,
      proxyEnv: { ...o.env, ...o.metadataEnv },
      identity: { caAddress: o.ca, rootCertFile: o.rootCertFile, tokenFile: o.tokenFile },
      proxyOutput: o.logFd,
      supervised: true,
      nodeType: o.router ? (o.waypoint ? 'waypoint' : 'router') : 'sidecar',
      // A restarted sidecar re-runs the step on a namespace that has the rules: the idempotent apply.
      // A gateway has no capture; as Istio's gateway chart, it may bind any port as the proxy's user.
      init: o.router
        ? (p) => unprivilegedPorts(p.netns)
        : (p) => this.#inits.get(p.netns) ?? applyCapture(INIT_CONFIG, { netns: p.netns }).then(() => undefined),
    });
    return meshPodSidecar(mp);
  }

  async publishPort(pod: PodAddress, port: number): Promise<PublishedPort> {
    // Connections are made inside the pod's namespace, to the pod's own address: no route or rule is added.
    const r = await Relay.start(pod.netns!, pod.ip, port, port);
    return { address: r.address, close: () => r.close() };
  }

  http(pod: PodAddress | undefined, address: string, path: string, opts?: { method?: string; timeoutMs?: number }) {
    return httpIn(pod ? pod.netns : this.#cluster.nodeNetns, address, path, opts);
  }

  tcpOpen(pod: PodAddress, host: string, port: number): Promise<boolean> {
    return tcpOpenIn(pod.netns, host, port);
  }

  async close(): Promise<void> {
    await Promise.all(this.#relays.splice(0).map((r) => r.close()));
    await this.#cluster.teardown();
  }
}

function spawnArgv(argv: readonly string[], spec: Omit<PodProcessSpec, 'uid' | 'gid'>): ChildProcess {
  // Its own process group: a Ctrl-C in the terminal is for `up`, which stops everything in order.
  return spawn(argv[0]!, argv.slice(1), { cwd: spec.cwd, env: spec.env, stdio: spec.stdio, detached: true });
}

function meshPodSidecar(mp: MeshPod): Sidecar {
  const listeners: ((how: string) => void)[] = [];
  let stopping = false;
  mp.proxy?.once('exit', () => {
    if (!stopping) for (const l of listeners) l(mp.proxyExit ?? 'exited');
  });
  return {
    admin: `127.0.0.1:${mp.adminPort}`,
    readyMs: mp.readyMs,
    exited: () => mp.proxyExit,
    onExit: (l) => listeners.push(l),
    pid: mp.proxy?.pid,
    stop: () => {
      stopping = true;
      return mp.stop();
    },
  };
}

/** Istio's gateway chart sets the sysctl net.ipv4.ip_unprivileged_port_start=0 in the gateway pod: the same, in its namespace. */
async function unprivilegedPorts(netns: string): Promise<void> {
  const r = await run('ip', ['netns', 'exec', netns, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start']);
  if (r.code !== 0) throw new TrellisError('IO', `ip_unprivileged_port_start in ${netns}: exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
}

let backend: Promise<Backend> | undefined;

/**
 * istio-init's rules in a namespace just made: nothing of ours can be there
 * yet, so no iptables-save and no clean-up first — one iptables-restore per
 * family (what applyCapture does after finding nothing, in two processes
 * instead of nine). The back end is the machine's, detected once.
 */
async function freshCapture(netns: string): Promise<void> {
  backend ??= detectBackend();
  const b = await backend;
  const rules = buildCaptureRules(INIT_CONFIG);
  // The first sidecar's restarts use applyCapture; this runs once per namespace.
  for (const family of ['v4', 'v6'] as const) {
    if (rules[family].length === 0) continue;
    const r = await run('ip', ['netns', 'exec', netns, b.restore(family), '--noflush', '--wait', '10'], renderRestore(rules[family]));
    if (r.code !== 0) throw new TrellisError('IO', `capture rules in ${netns}: ${b.restore(family)} exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
}
