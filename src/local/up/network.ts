/**
 * What `trellis up` needs from the machine, in either mode: a place for the
 * control plane, an address (and maybe a network namespace) per pod, the
 * Services' routing (kube-proxy's part), processes inside pods, a sidecar
 * started Istio's way, and a way to reach admin APIs and probe apps.
 * netns-network.ts does it with network namespaces and real capture (root);
 * loopback/network.ts with 127.x addresses and no capture (anyone).
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { HttpReply } from '../netns/index.js';
import type { ServicePortBackends } from './endpoints.js';
import type { UpMode } from './run-dir.js';

export interface PodAddress {
  namespace: string;
  name: string;
  /** status.podIP: the address the mesh knows the pod by. */
  ip: string;
  /** Where the pod's apps listen (POD_IP in their environment): `ip`, except behind a loopback sidecar. */
  appIp: string;
  /** The pod's network namespace (netns mode). */
  netns?: string;
  /** Loopback mode: the pod's view of the service range (see translate/loopback.ts). */
  view?: string;
}

export interface ControlPlaneAddresses {
  xds: string;
  debug: string;
  ca?: string;
}

export interface SidecarOptions {
  pod: PodAddress;
  /** argv prefix that runs the trellis CLI. */
  trellis: readonly string[];
  xds: string;
  ca: string;
  rootCertFile: string;
  tokenFile: string;
  labels: Readonly<Record<string, string>>;
  workloadName: string;
  /** More ISTIO_META_* / TRELLIS_META_* variables (owner, cluster id, ...). */
  metadataEnv: Readonly<Record<string, string>>;
  /** Base environment of the proxy (run marker included). */
  env: NodeJS.ProcessEnv;
  /** The proxy's log file (stdout and stderr). */
  logFd: number;
  /** An ingress gateway: a `router~` node id, no capture (Istio's gateway pods have no istio-init). */
  router?: boolean;
  /** With `router`: a waypoint's pod, a `waypoint~` node id (no capture either). */
  waypoint?: boolean;
}

/** A pod's port published on this machine's 127.0.0.1. */
export interface PublishedPort {
  /** "127.0.0.1:PORT". */
  readonly address: string;
  close(): Promise<void>;
}

export interface Sidecar {
  /** The admin API, "HOST:PORT", reached through UpNetwork.http with the pod. */
  readonly admin: string;
  /** Milliseconds from the proxy's spawn to /ready. */
  readonly readyMs: number | undefined;
  /** "exit 1", "SIGKILL", or undefined while it runs. */
  exited(): string | undefined;
  onExit(listener: (how: string) => void): void;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface PodProcessSpec {
  uid?: number;
  gid?: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdio: SpawnOptions['stdio'];
}

export interface UpNetwork {
  readonly mode: UpMode;
  /** What the NODE column shows. */
  readonly nodeName: string;
  /** One line for the start-up output ("netns mode: …" / "loopback mode: no kernel capture …"). */
  readonly description: string;
  /** Where the control plane binds. */
  readonly controlPlaneHost: string;
  /** Ports the control plane uses (Istio's, where the mode allows). */
  readonly controlPlanePorts: { xds: number; debug: number; ca: number };
  spawnControlPlane(argv: readonly string[], spec: Omit<PodProcessSpec, 'uid' | 'gid'>): ChildProcess;
  /** The control plane's addresses as reachable from this machine (for the state file). */
  publish(cp: ControlPlaneAddresses): Promise<ControlPlaneAddresses>;
  addPod(namespace: string, name: string, sidecar: boolean): Promise<PodAddress>;
  removePod(pod: PodAddress): Promise<void>;
  /** The address a pod's apps are given for a cluster IP (SERVICE_HOST). */
  serviceHost(pod: PodAddress, clusterIp: string): string;
  /** The port they are given for a service port (SERVICE_PORT): itself, unless loopback mode had to move it. */
  servicePort(port: number): number;
  /** Routing for Services: kube-proxy's rules, or the userspace proxy for pods without sidecar. */
  setServices(backends: readonly ServicePortBackends[], pods: readonly { pod: PodAddress; sidecar: boolean }[]): Promise<void>;
  /** Name → IP entries a pod resolves (netns mode's /etc/hosts; ignored in loopback). */
  setHosts(pod: PodAddress, entries: Readonly<Record<string, string>>): void;
  spawnInPod(pod: PodAddress, argv: readonly string[], spec: PodProcessSpec): ChildProcess;
  startSidecar(opts: SidecarOptions): Promise<Sidecar>;
  /** Makes the pod's `port` reachable at 127.0.0.1:`port` on this machine (a gateway's listener). */
  publishPort(pod: PodAddress, port: number): Promise<PublishedPort>;
  /** An HTTP request from inside the pod (or, without one, from where the control plane runs). */
  http(pod: PodAddress | undefined, address: string, path: string, opts?: { method?: string; timeoutMs?: number }): Promise<HttpReply>;
  tcpOpen(pod: PodAddress, host: string, port: number): Promise<boolean>;
  /** The argv that runs a command in the pod as `uid` (for `trellis exec`). */
  execArgv(pod: PodAddress, argv: readonly string[], uid: number | undefined): string[];
  close(): Promise<void>;
}
