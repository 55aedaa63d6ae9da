/**
 * One container of a pod as kubelet runs it: a process, restarted by the
 * pod's restartPolicy with back-off, its state as containerStatuses report
 * it (waiting with a reason, running since, terminated with an exit code),
 * and its restart count. The back-off is kubelet's doubling, from 1 s to
 * 30 s (kubelet: 10 s to 5 min — a local loop wants faster feedback), reset
 * after a minute of running.
 */
import type { ChildProcess } from 'node:child_process';
import { logger } from '../../log.js';

const log = logger('up');

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface ContainerState {
  state: 'waiting' | 'running' | 'terminated';
  /** waiting: ContainerCreating, CrashLoopBackOff, StartError; terminated: Completed, Error, OOMKilled... */
  reason?: string;
  message?: string;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  restarts: number;
  ready: boolean;
  /** How the last run ended ("exit 1", "SIGKILL"), for the status. */
  lastExit?: string;
}

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 60_000;
/** kubelet restarts forever; a local run gives up after this many (hours of back-off) and says so. */
export const MAX_RESTARTS = 200;

export class Container {
  readonly name: string;
  readonly #spawn: () => ChildProcess;
  readonly #policy: RestartPolicy;
  readonly #onChange: (c: Container, event?: string) => void;
  #child: ChildProcess | undefined;
  #state: ContainerState = { state: 'waiting', reason: 'ContainerCreating', restarts: 0, ready: false };
  #backoff = BACKOFF_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #startedMs = 0;

  constructor(name: string, spawn: () => ChildProcess, policy: RestartPolicy, onChange: (c: Container, event?: string) => void) {
    this.name = name;
    this.#spawn = spawn;
    this.#policy = policy;
    this.#onChange = onChange;
  }

  get state(): Readonly<ContainerState> {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  get running(): boolean {
    return this.#state.state === 'running';
  }

  /** Readiness as the pod's probes decide it (only a running container can be ready). */
  setReady(ready: boolean): void {
    const r = ready && this.running;
    if (r === this.#state.ready) return;
    this.#state = { ...this.#state, ready: r };
    this.#onChange(this);
  }

  start(): void {
    if (this.#stopped) return;
    let child: ChildProcess;
    try {
      child = this.#spawn();
    } catch (err) {
      this.#ended(undefined, undefined, err instanceof Error ? err.message : String(err));
      return;
    }
    this.#child = child;
    this.#startedMs = Date.now();
    this.#state = { state: 'running', startedAt: new Date().toISOString(), restarts: this.#state.restarts, ready: false, ...(this.#state.lastExit ? { lastExit: this.#state.lastExit } : {}) };
    this.#onChange(this);
    let done = false;
    child.once('error', (err) => {
      if (!done) this.#ended(undefined, undefined, err.message);
      done = true;
    });
    child.once('exit', (code, signal) => {
      if (!done) this.#ended(code, signal ?? undefined, undefined);
      done = true;
    });
  }

  #ended(code: number | null | undefined, signal: string | undefined, startError: string | undefined): void {
    this.#child = undefined;
    if (this.#stopped) return;
    const how = startError ? `cannot start: ${startError}` : signal ?? `exit ${code}`;
    const failed = startError !== undefined || signal !== undefined || code !== 0;
    const restart = (this.#policy === 'Always' || (this.#policy === 'OnFailure' && failed)) && this.#state.restarts < MAX_RESTARTS;
    if (Date.now() - this.#startedMs > STABLE_MS) this.#backoff = BACKOFF_MIN_MS;
    log.warn('container ended', { container: this.name, how, restart });
    if (!restart) {
      this.#state = {
        state: 'terminated', reason: startError ? 'StartError' : failed ? 'Error' : 'Completed', exitCode: code ?? (startError ? 128 : 137),
        finishedAt: new Date().toISOString(), restarts: this.#state.restarts, ready: false, lastExit: how,
        ...(startError ? { message: startError } : this.#state.restarts >= MAX_RESTARTS ? { message: `not restarted after ${MAX_RESTARTS} restarts` } : {}),
      };
      this.#onChange(this, how);
      return;
    }
    this.#state = { state: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${this.#backoff / 1000}s restarting failed container (${how})`, restarts: this.#state.restarts, ready: false, lastExit: how };
    this.#onChange(this, how);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#state = { ...this.#state, restarts: this.#state.restarts + 1 };
      this.start();
    }, this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
  }

  /** SIGTERM, SIGKILL after `graceMs`; no restart afterwards. */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }
}
