/**
 * The control plane as a child process (istiod's place in the cluster):
 * `trellis controlplane` on the user's directory and the run's pods, with
 * its CA, on Istio's ports at the network's control-plane address. Started
 * once; if it exits it is restarted with back-off (its Deployment would be),
 * on the same ports and CA, and connected proxies reconnect by themselves.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { TrellisError } from '../../errors.js';
import type { ControlPlaneAddresses, UpNetwork } from './network.js';

export interface ControlPlaneSpec {
  trellis: readonly string[];
  configDirs: readonly string[];
  caDir: string;
  serviceCidr: string;
  logFile: string;
  env: NodeJS.ProcessEnv;
}

const START_TIMEOUT_MS = 20_000;
const RESTART_MS = [1000, 2000, 5000, 10_000, 30_000];
/** After this many restarts (about an hour of back-off) it stays down, reported. */
const MAX_RESTARTS = 120;

export class ControlPlaneProcess {
  readonly #network: UpNetwork;
  readonly #spec: ControlPlaneSpec;
  readonly #onEvent: (event: string) => void;
  #child: ChildProcess | undefined;
  #addresses: ControlPlaneAddresses | undefined;
  #stopping = false;
  #restarts = 0;
  #logFd: number;
  #timer: NodeJS.Timeout | undefined;

  private constructor(network: UpNetwork, spec: ControlPlaneSpec, onEvent: (event: string) => void) {
    this.#network = network;
    this.#spec = spec;
    this.#onEvent = onEvent;
    this.#logFd = openSync(spec.logFile, 'a', 0o644);
  }

  /** Starts it and resolves once it serves (its JSON line on stdout). */
  static async start(network: UpNetwork, spec: ControlPlaneSpec, onEvent: (event: string) => void): Promise<ControlPlaneProcess> {
    const cp = new ControlPlaneProcess(network, spec, onEvent);
    try {
      cp.#addresses = await cp.#spawn();
    } catch (err) {
      await cp.stop();
      throw err;
    }
    return cp;
  }

  /** Where pods reach it. */
  get addresses(): ControlPlaneAddresses {
    return this.#addresses!;
  }

  get restarts(): number {
    return this.#restarts;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.#child!.pid : undefined;
  }

  #argv(): string[] {
    const n = this.#network;
    const p = n.controlPlanePorts;
    return [
      ...this.#spec.trellis, 'controlplane',
      ...this.#spec.configDirs.flatMap((d) => ['--config-dir', d]),
      '--bind', n.controlPlaneHost, '--xds-port', String(p.xds), '--debug-port', String(p.debug),
      '--ca-dir', this.#spec.caDir, '--ca-port', String(p.ca),
      '--service-cidr', this.#spec.serviceCidr, '--debounce-ms', '50',
    ];
  }

  #spawn(): Promise<ControlPlaneAddresses> {
    const child = this.#network.spawnControlPlane(this.#argv(), { env: this.#spec.env, cwd: '/', stdio: ['ignore', 'pipe', this.#logFd] });
    this.#child = child;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        child.kill('SIGKILL');
        reject(new TrellisError('IO', `control plane did not serve within ${START_TIMEOUT_MS} ms (log: ${this.#spec.logFile})`));
      }, START_TIMEOUT_MS);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (settled || !line.startsWith('{')) return;
        try {
          const a = JSON.parse(line) as ControlPlaneAddresses;
          settled = true;
          clearTimeout(timer);
          resolve(a);
        } catch {
          // not the address line
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const how = signal ?? `exit ${code}`;
        if (!settled) {
          settled = true;
          reject(new TrellisError('IO', `control plane exited (${how}) before serving; see ${this.#spec.logFile}`));
          return;
        }
        if (!this.#stopping) this.#restart(how);
      });
    });
  }

  #restart(how: string): void {
    if (this.#restarts >= MAX_RESTARTS) {
      this.#onEvent(`control plane ${how}; not restarted after ${MAX_RESTARTS} restarts (log: ${this.#spec.logFile})`);
      return;
    }
    const delay = RESTART_MS[Math.min(this.#restarts, RESTART_MS.length - 1)]!;
    this.#onEvent(`control plane ${how}; restarting in ${delay / 1000} s (log: ${this.#spec.logFile})`);
    this.#timer = setTimeout(() => {
      this.#restarts++;
      this.#spawn().then(
        () => this.#onEvent('control plane restarted'),
        (err: unknown) => !this.#stopping && this.#restart(err instanceof Error ? err.message : String(err)),
      );
    }, delay);
  }

  /** From now on an exit is expected (teardown has begun): no restart. */
  halt(): void {
    this.#stopping = true;
    clearTimeout(this.#timer);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    closeSync(this.#logFd);
  }
}
