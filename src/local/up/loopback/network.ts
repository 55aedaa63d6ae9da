/**
 * loopback mode: no root, no network namespaces, no kernel capture. The run
 * claims 127.R.0.0/16: the control plane listens on 127.R.0.1 (Istio's
 * ports), pod i is 127.R.0.(10+i) — the address the mesh knows it by, where
 * its sidecar's inbound listeners bind — and its apps listen on
 * 127.R.1.(10+i) behind a sidecar (on the pod address without one). Each
 * pod also claims a view 127.V.0.0/16 where Services are: a Service's
 * cluster IP a.b.c.d is 127.V.c.d for that pod, which is what its
 * environment says; its sidecar listens there (the control plane binds the
 * listeners, translate/loopback.ts), or, without one, the userspace service
 * proxy does. An app that connects to a pod address directly bypasses its
 * own sidecar: nothing captures.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { parseServiceCidr } from '../../../config/cluster-ip.js';
import { TrellisError } from '../../../errors.js';
import { LOW_PORT_SHIFT, viewAddress, viewPort } from '../../../controlplane/translate/loopback.js';
import { readFileSync } from 'node:fs';
import { httpIn, tcpOpenIn } from '../../netns/index.js';
import type { ServicePortBackends } from '../endpoints.js';
import type { ControlPlaneAddresses, PodAddress, PodProcessSpec, PublishedPort, Sidecar, SidecarOptions, UpNetwork } from '../network.js';
import { claimOctet, releaseOctet } from './claims.js';
import { ServiceProxy } from './service-proxy.js';
import { startLoopbackSidecar } from './sidecar.js';
import { hostname } from 'node:os';
import { randomInt } from 'node:crypto';

const MAX_PODS = 240;

export class LoopbackNetwork implements UpNetwork {
  readonly mode = 'loopback' as const;
  readonly controlPlanePorts = { xds: 15010, debug: 15014, ca: 15012 };
  readonly nodeName = hostname();
  readonly #octet: number;
  readonly #runId: string;
  readonly #views = new Map<string, number>();
  readonly #index = new Map<string, number>();
  readonly #free: number[] = [];
  #next = 0;
  readonly #services = new ServiceProxy();
  readonly #pdeathsig: boolean;
  /** Ports below this cannot be bound by this user (0 for root): views move them (translate/loopback.ts). */
  readonly lowPorts: number;

  private constructor(runId: string, octet: number) {
    this.#runId = runId;
    this.#octet = octet;
    this.#pdeathsig = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
    this.lowPorts = unprivilegedPortStart();
  }

  static create(runId: string): LoopbackNetwork {
    return new LoopbackNetwork(runId, claimOctet(runId, 20 + randomInt(231)));
  }

  get description(): string {
    const low = this.lowPorts > 0 ? `; service ports below ${this.lowPorts} are moved up by ${LOW_PORT_SHIFT} (this user may not bind them)` : '';
    return `loopback mode: pods on 127.${this.#octet}.0.0/16, no network namespaces and NO kernel capture — ` +
      `sidecars listen on each pod's own service addresses (its environment's SERVICE_HOST/SERVICE_PORT variables); a direct connection to a pod IP bypasses the caller's sidecar${low}`;
  }

  get controlPlaneHost(): string {
    return `127.${this.#octet}.0.1`;
  }

  spawnControlPlane(argv: readonly string[], spec: Omit<PodProcessSpec, 'uid' | 'gid'>): ChildProcess {
    return this.#spawn(argv, spec);
  }

  async publish(cp: ControlPlaneAddresses): Promise<ControlPlaneAddresses> {
    return cp;
  }

  async addPod(namespace: string, name: string, sidecar: boolean): Promise<PodAddress> {
    const key = `${namespace}/${name}`;
    const i = this.#free.shift() ?? this.#next++;
    if (i >= MAX_PODS) throw new TrellisError('IO', `loopback mode runs at most ${MAX_PODS} pods`);
    const view = claimOctet(this.#runId, this.#octet + 1 + i);
    this.#index.set(key, i);
    this.#views.set(key, view);
    const ip = `127.${this.#octet}.0.${10 + i}`;
    return { namespace, name, ip, appIp: sidecar ? `127.${this.#octet}.1.${10 + i}` : ip, view: `127.${view}.0.0/16` };
  }

  async removePod(pod: PodAddress): Promise<void> {
    const key = `${pod.namespace}/${pod.name}`;
    const view = this.#views.get(key);
    if (view !== undefined) releaseOctet(view);
    const i = this.#index.get(key);
    if (i !== undefined) this.#free.push(i);
    this.#views.delete(key);
    this.#index.delete(key);
  }

  serviceHost(pod: PodAddress, clusterIp: string): string {
    return viewAddress(parseServiceCidr(pod.view!), clusterIp) ?? clusterIp;
  }

  servicePort(port: number): number {
    return viewPort(port, this.lowPorts);
  }

  async setServices(backends: readonly ServicePortBackends[], pods: readonly { pod: PodAddress; sidecar: boolean }[]): Promise<void> {
    const want = new Map<string, { ip: string; port: number }[]>();
    for (const { pod, sidecar } of pods) {
      if (sidecar || !pod.view) continue;
      for (const b of backends) {
        const ip = b.service.spec?.clusterIP;
        if (!ip || ip === 'None' || b.protocol !== 'tcp') continue;
        want.set(`${this.serviceHost(pod, ip)}:${this.servicePort(b.port)}`, b.backends);
      }
    }
    await this.#services.set(want);
  }

  setHosts(): void {
    // No per-process /etc/hosts without a mount namespace: names are not resolved in loopback mode.
  }

  spawnInPod(_pod: PodAddress, argv: readonly string[], spec: PodProcessSpec): ChildProcess {
    return this.#spawn(argv, spec);
  }

  execArgv(_pod: PodAddress, argv: readonly string[]): string[] {
    return [...argv];
  }

  publishPort(): Promise<PublishedPort> {
    return Promise.reject(new TrellisError('CLI_USAGE', 'publishing a gateway port needs netns mode'));
  }

  startSidecar(o: SidecarOptions): Promise<Sidecar> {
    // A router binds 0.0.0.0:PORT (istiod's gateway listeners): without a namespace of its own that is every
    // address of this machine, and a second gateway would collide with the first.
    if (o.router) return Promise.reject(new TrellisError('CLI_USAGE', `${o.waypoint ? 'a waypoint' : 'an ingress gateway'} needs netns mode (run trellis up as root)`));
    return startLoopbackSidecar(o, this.lowPorts, (argv, spec) => this.#spawn(argv, spec));
  }

  http(_pod: PodAddress | undefined, address: string, path: string, opts?: { method?: string; timeoutMs?: number }) {
    return httpIn(undefined, address, path, opts);
  }

  tcpOpen(_pod: PodAddress, host: string, port: number): Promise<boolean> {
    return tcpOpenIn(undefined, host, port);
  }

  async close(): Promise<void> {
    await this.#services.close();
    for (const v of this.#views.values()) releaseOctet(v);
    this.#views.clear();
    releaseOctet(this.#octet);
  }

  /** Children die with us (setpriv --pdeathsig, when setpriv exists) and are not in our process group (Ctrl-C is ours). */
  #spawn(argv: readonly string[], spec: Omit<PodProcessSpec, 'uid' | 'gid'>): ChildProcess {
    const full = this.#pdeathsig ? ['setpriv', '--pdeathsig', 'KILL', '--', ...argv] : [...argv];
    return spawn(full[0]!, full.slice(1), { cwd: spec.cwd, env: spec.env, stdio: spec.stdio, detached: true });
  }
}

/** The lowest port this process may bind (0 for root: every port). */
function unprivilegedPortStart(): number {
  if (process.getuid?.() === 0) return 0;
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim()) || 1024;
  } catch {
    return 1024;
  }
}
