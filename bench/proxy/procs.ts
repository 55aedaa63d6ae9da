/**
 * Child processes of the proxy benchmark: spawned pinned to a core, all
 * tracked so they are killed at the end, also on failure or Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const children = new Set<ChildProcess>();

export interface Spawned {
  proc: ChildProcess;
  pid: number;
  /** Everything written to stdout and stderr so far (bounded). */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns `cmd args` under `taskset -c core` (taskset execs, so the pid is the command's). */
export function spawnPinned(core: number | undefined, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const [file, argv] = core === undefined ? [cmd, args] : ['taskset', ['-c', String(core), cmd, ...args]];
  const proc = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 1 << 20) out = out.slice(-(1 << 19));
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return {
    proc,
    pid: proc.pid!,
    output: () => out,
    stop: () => stopProc(proc),
  };
}

/** A lowest-priority busy loop on the proxy core, so the core never idles between requests at a fixed rate. */
export function spinner(core: number | undefined): Spawned | undefined {
  if (core === undefined) return undefined;
  return spawnPinned(core, 'nice', ['-n', '19', process.execPath, '-e', 'for(;;){}']);
}

/** SIGTERM, then SIGKILL after 3 s. */
export async function stopProc(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Pids of every child still running (proxies, backend, spinner). */
export function childPids(): number[] {
  return [...children].map((c) => c.pid!).filter((p) => p !== undefined);
}

/** Kills every child still running (synchronously: usable from 'exit'). */
export function killAll(): void {
  for (const p of children) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

let hooked = false;
/** Makes sure no child outlives the benchmark, whatever ends it. */
export function killAllOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { killAll(); process.exit(130); });
}

export { freePort } from '../../test/helpers/ports.js';

/** Resolves once 127.0.0.1:port accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(10);
  }
  throw new Error(`127.0.0.1:${port} did not accept connections within ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TICK_S = 1 / 100; // CLK_TCK is 100 on Linux x86_64

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_S;
}

/** CPU seconds of this process plus its reaped children (wrk), from /proc/self/stat. */
export function selfAndChildrenSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) * TICK_S;
}

/** Busy CPU seconds of the whole machine (all cores, everything but idle and iowait), from /proc/stat. */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((s, x) => s + x, 0);
  return (total - f[3]! - f[4]!) * TICK_S;
}

/**
 * Measures how much CPU other people's processes used while `fn` ran: the
 * machine's busy time minus ours (this process, its reaped children, `pids`).
 * In cores (1.0 = one core fully busy).
 */
export async function foreignLoad<T>(pids: () => number[], fn: () => Promise<T>): Promise<{ result: T; foreign: number }> {
  const alive = () => pids().filter((p) => { try { cpuSeconds(p); return true; } catch { return false; } });
  const own = () => selfAndChildrenSeconds() + alive().reduce((s, p) => s + cpuSeconds(p), 0);
  const t0 = performance.now();
  const m0 = machineBusySeconds();
  const o0 = own();
  const result = await fn();
  const secs = (performance.now() - t0) / 1000;
  const foreign = Math.max(0, machineBusySeconds() - m0 - (own() - o0)) / secs;
  return { result, foreign };
}

/** Resident set size in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
