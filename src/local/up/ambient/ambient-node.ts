/**
 * Ambient mode on `trellis up`'s node: what Istio's CNI agent does there.
 * For each ambient pod, before its apps start: the in-pod redirection in
 * the pod's namespace (src/ztunnel/redirect), then the pod sent to the node
 * proxy over ZDS with its namespace's fd; when the pod stops, its removal.
 *
 * ONE node proxy for the node, started when the first ambient pod needs it
 * (a mesh without one runs none), in the node namespace, and stopped with
 * the mesh. If it exits it is restarted with back-off (its DaemonSet would
 * be) and, on the new connection, sent every ambient pod again and then
 * SnapshotSent, as the CNI agent does when ztunnel reconnects.
 *
 * Loopback mode has no pod namespaces: an ambient pod runs there without
 * redirection and without the node proxy, and an event says so.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { TrellisError, errorMessage } from '../../../errors.js';
import { logger } from '../../../log.js';
import { applyInpodRedirect, defaultInpodConfig } from '../../../ztunnel/redirect/index.js';
import { ZdsClient } from '../../../ztunnel/zds/index.js';
import type { ControlPlaneAddresses, UpNetwork } from '../network.js';
import { RUN_ENV } from '../process-sweep.js';
import { runFiles } from '../run-dir.js';
import { nodeProxyArgv } from './node-proxy-argv.js';

const log = logger('up');

/** A pod the node proxy is to serve. */
export interface AmbientPod {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  /** Its network namespace (netns mode); none in loopback mode. */
  netns: string | undefined;
}

export interface AmbientNodeOptions {
  network: UpNetwork;
  runId: string;
  run: string;
  /** The argv prefix that runs the node proxy (this CLI and `ztunnel`). */
  command: readonly string[];
  /** The control plane as the node namespace reaches it. */
  controlPlane: () => ControlPlaneAddresses;
  rootCertFile: string;
  /** A fresh token for the node proxy's own identity (node-proxy-argv.ts). */
  token: () => string;
  event: (e: string) => void;
}

/** Until the node proxy answers on ZDS: its start, certificates aside, is a Node process's boot. */
const START_TIMEOUT_MS = 20_000;
const RESTART_MS = [1000, 2000, 5000, 10_000, 30_000];
const MAX_RESTARTS = 120;

interface Connection {
  client: ZdsClient;
  /** Each pod's add on this connection (its ack, or its refusal). */
  sent: Map<string, Promise<void>>;
}

export class AmbientNode {
  readonly #o: AmbientNodeOptions;
  readonly #pods = new Map<string, AmbientPod & { netns: string }>();
  #child: ChildProcess | undefined;
  #childExit: Promise<string> | undefined;
  #conn: Connection | undefined;
  #connecting: Promise<Connection> | undefined;
  #restarts = 0;
  #timer: NodeJS.Timeout | undefined;
  #logFd: number | undefined;
  #stopped = false;
  #loopbackTold = false;

  constructor(o: AmbientNodeOptions) {
    this.#o = o;
  }

  /** Whether the node proxy process is running (for the status). */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The running node proxy's pid, for the state file and the memory status; undefined when none runs. */
  get pid(): number | undefined {
    return this.running ? this.#child!.pid : undefined;
  }

  /** How many pods it serves (or is being sent). */
  get podCount(): number {
    return this.#pods.size;
  }

  /** Redirection in the pod, then the pod on the node proxy; rejects (the pod fails) when either cannot be done. */
  async enroll(pod: AmbientPod): Promise<void> {
    if (pod.netns === undefined) {
      if (!this.#loopbackTold) this.#o.event('ambient pods run without the node proxy in loopback mode (no pod namespaces to redirect in)');
      this.#loopbackTold = true;
      return;
    }
    await applyInpodRedirect(defaultInpodConfig(), { netns: pod.netns });
    this.#pods.set(pod.uid, { ...pod, netns: pod.netns });
    try {
      const conn = await this.#connection();
      if (!conn.sent.has(pod.uid)) conn.sent.set(pod.uid, this.#add(conn, pod.uid));
      await conn.sent.get(pod.uid);
    } catch (err) {
      // A pod that failed is not sent again on a later connection.
      this.#pods.delete(pod.uid);
      this.#conn?.sent.delete(pod.uid);
      throw err;
    }
  }

  /**
   * The pod is going: the node proxy stops serving it (before its namespace
   * is deleted). A pod still being enrolled is dropped from it: #add sends
   * nothing for a uid no longer here, and a del follows an add already sent.
   */
  async release(uid: string): Promise<void> {
    if (!this.#pods.delete(uid)) return;
    const conn = this.#conn;
    if (!conn?.sent.has(uid)) return;
    conn.sent.delete(uid);
    await conn.client.remove(uid);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#conn?.client.close();
    const child = this.#child;
    if (child && this.running) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.#childExit;
      clearTimeout(t);
    }
    if (this.#logFd !== undefined) closeSync(this.#logFd);
    this.#logFd = undefined;
  }

  #add(conn: Connection, uid: string): Promise<void> {
    const p = this.#pods.get(uid);
    if (!p) return Promise.resolve();
    return conn.client.add({ uid, name: p.name, namespace: p.namespace, serviceAccount: p.serviceAccount }, `/var/run/netns/${p.netns}`);
  }

  /** The live ZDS connection, starting (or restarting) the node proxy as needed; one attempt at a time. */
  #connection(): Promise<Connection> {
    if (this.#stopped) return Promise.reject(new TrellisError('ZDS_UNAVAILABLE', 'the mesh is stopping'));
    if (this.#conn && !this.#conn.client.closed) return Promise.resolve(this.#conn);
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<Connection> {
    this.#conn = undefined;
    if (!this.running) this.#spawn();
    const exited = this.#childExit!.then((how) => {
      throw new TrellisError('ZDS_UNAVAILABLE', `the node proxy exited (${how}) before it served ZDS; see ${runFiles.nodeProxyLog(this.#o.run)}`);
    });
    // Once connected, a later exit is #exited's business, not a rejection nobody awaits.
    exited.catch(() => undefined);
    const client = await Promise.race([ZdsClient.connect(runFiles.zdsSocket(this.#o.run), { timeoutMs: START_TIMEOUT_MS }), exited]);
    const conn: Connection = { client, sent: new Map() };
    // What the node proxy has to know on a new connection: every ambient pod, then that this was all of them.
    for (const uid of this.#pods.keys()) conn.sent.set(uid, this.#add(conn, uid));
    await Promise.allSettled(conn.sent.values());
    await client.snapshotSent();
    // Pods released while this connection was being made found no connection to send their del on.
    for (const uid of [...conn.sent.keys()].filter((u) => !this.#pods.has(u))) {
      conn.sent.delete(uid);
      await client.remove(uid).catch((err: unknown) => log.warn('node proxy did not release a pod', { uid, error: errorMessage(err) }));
    }
    this.#conn = conn;
    return conn;
  }

  #spawn(): void {
    const o = this.#o;
    const dir = runFiles.nodeProxyDir(o.run);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tokenFile = runFiles.nodeProxyToken(o.run);
    writeFileSync(tokenFile, o.token(), { mode: 0o600 });
    const cp = o.controlPlane();
    const argv = nodeProxyArgv(o.command, {
      nodeName: o.network.nodeName, xds: cp.xds, ca: cp.ca ?? cp.xds, rootCertFile: o.rootCertFile, tokenFile, zdsSocket: runFiles.zdsSocket(o.run),
    });
    this.#logFd ??= openSync(runFiles.nodeProxyLog(o.run), 'a', 0o644);
    const env = { ...process.env, [RUN_ENV]: o.runId };
    // The node's own namespace, where the control plane runs too (spawnControlPlane's place).
    const child = o.network.spawnControlPlane(argv, { env, cwd: '/', stdio: ['ignore', this.#logFd, this.#logFd] });
    this.#child = child;
    this.#childExit = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
    void this.#childExit.then((how) => this.#exited(child, how));
    o.event(`node proxy started (pid ${child.pid}): ${argv.slice(o.command.length - 1).join(' ')}`);
  }

  #exited(child: ChildProcess, how: string): void {
    if (this.#stopped || child !== this.#child) return;
    this.#conn?.client.close();
    this.#conn = undefined;
    // With no pod to serve (they failed, or left), the next ambient pod starts it again.
    if (this.#pods.size === 0) return this.#o.event(`node proxy ${how} (log: ${runFiles.nodeProxyLog(this.#o.run)})`);
    if (this.#restarts >= MAX_RESTARTS) return this.#o.event(`node proxy ${how}; not restarted after ${MAX_RESTARTS} restarts`);
    const delay = RESTART_MS[Math.min(this.#restarts, RESTART_MS.length - 1)]!;
    this.#o.event(`node proxy ${how}; restarting in ${delay / 1000} s (log: ${runFiles.nodeProxyLog(this.#o.run)})`);
    this.#timer = setTimeout(() => {
      this.#restarts++;
      this.#connection().catch((err: unknown) => log.warn('node proxy restart failed', { error: errorMessage(err) }));
    }, delay);
  }
}
