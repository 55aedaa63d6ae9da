/**
 * A real `trellis up` for the tests: the built CLI as a child process (as
 * root, or dropped to another uid with setpriv), its own state file
 * (TRELLIS_STATE_FILE, so a developer's mesh or another suite's is never
 * touched), stdout kept line by line with bounded waits, and the other
 * commands (`get`, `exec`, `logs`) run against it the same way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { trellisBin } from '../../helpers/trellis-process.js';

export const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));

export interface UpRunOptions {
  /** Run as this uid (setpriv): loopback mode without root. */
  uid?: number;
  args?: string[];
}

/** A copy of a fixture directory the test may edit, readable by every uid (apps run as 1000). */
export function fixtureCopy(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `trellis-up-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return dir;
}

function asUid(uid: number | undefined, argv: string[]): string[] {
  return uid === undefined ? argv : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...argv];
}

export class UpRun {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly stateFile: string;
  readonly #stateDir: string;
  readonly #uid: number | undefined;
  #waiters: { test: (l: string) => RegExpMatchArray | null; resolve: (m: RegExpMatchArray) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(dir: string, o: UpRunOptions = {}) {
    this.#uid = o.uid;
    this.#stateDir = mkdtempSync(join(tmpdir(), 'trellis-up-state-'));
    chmodSync(this.#stateDir, 0o777);
    this.stateFile = join(this.#stateDir, 'state.json');
    const argv = asUid(o.uid, [process.execPath, trellisBin, 'up', dir, '--status-every', '1', ...(o.args ?? [])]);
    this.child = spawn(argv[0]!, argv.slice(1), { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      if (process.env.TRELLIS_TEST_VERBOSE) process.stderr.write(`[up] ${l}\n`);
      this.#waiters = this.#waiters.filter((w) => {
        const m = w.test(l);
        if (m) w.resolve(m);
        return !m;
      });
    });
    createInterface({ input: this.child.stderr! }).on('line', (l) => {
      this.stderr.push(l);
      if (this.stderr.length > 2000) this.stderr.splice(0, 1000);
    });
  }

  env(): NodeJS.ProcessEnv {
    return { ...process.env, TRELLIS_STATE_FILE: this.stateFile, HOME: this.#uid === undefined ? process.env.HOME : '/tmp' };
  }

  /**
   * The first stdout line (past or future) matching `re` for which `accept`
   * holds; rejects after `timeoutMs` or when up exits.
   */
  waitFor(re: RegExp, timeoutMs: number, accept: (m: RegExpMatchArray) => boolean = () => true): Promise<RegExpMatchArray> {
    const test = (l: string) => {
      const m = l.match(re);
      return m && accept(m) ? m : null;
    };
    for (const l of this.lines) {
      const m = test(l);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`${why} waiting for ${re}; output:\n${this.lines.slice(-60).join('\n')}\nstderr:\n${this.stderr.slice(-30).join('\n')}`));
      const timer = setTimeout(() => fail(`no match within ${timeoutMs} ms`), timeoutMs);
      const waiter = { test, resolve: (m: RegExpMatchArray) => (clearTimeout(timer), resolve(m)) };
      this.#waiters.push(waiter);
      void this.exited.then(({ code, signal }) => {
        if (this.#waiters.includes(waiter)) {
          clearTimeout(timer);
          fail(`trellis up exited (${code ?? signal})`);
        }
      });
    });
  }

  /** Another trellis command against this mesh (same user, same state file). */
  cli(args: string[], timeoutMs = 20_000): { code: number; stdout: string; stderr: string } {
    const argv = asUid(this.#uid, [process.execPath, trellisBin, ...args]);
    const r = spawnSync(argv[0]!, argv.slice(1), { env: this.env(), encoding: 'utf8', timeout: timeoutMs });
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  }

  /** `cli` without blocking the event loop, so several commands (and the test's own servers) run at once. */
  cliAsync(args: string[], timeoutMs = 20_000, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const argv = asUid(this.#uid, [process.execPath, trellisBin, ...args]);
    const child = spawn(argv[0]!, argv.slice(1), { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(stdin ?? '');
    return new Promise((resolve) => child.once('close', (code) => resolve({ code: code ?? 128, stdout, stderr })));
  }

  /** Another trellis command that keeps running (`tap`, `logs -f`): the caller reads it and ends it. */
  spawnCli(args: string[]): ChildProcess {
    const argv = asUid(this.#uid, [process.execPath, trellisBin, ...args]);
    return spawn(argv[0]!, argv.slice(1), { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Polls `get pods -A` until every pod is Running with all containers ready (bounded). */
  async allReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      const r = this.cli(['get', 'pods', '-A']);
      last = r.stdout + r.stderr;
      const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s{3,}/));
      if (r.code === 0 && rows.length > 0 && rows.every((x) => x[3] === 'Running' && /^(\d+)\/\1$/.test(x[2] ?? ''))) return;
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error(`pods not all ready within ${timeoutMs} ms:\n${last}`);
  }

  /** Sends `signal` and waits (bounded) for up to exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.exited, new Promise<never>((_r, rej) => (timer = setTimeout(() => rej(new Error(`trellis up still running ${timeoutMs} ms after ${signal}`)), timeoutMs)))]);
    clearTimeout(timer);
    return r;
  }

  /** For after(): whatever happened, the process ends and the state directory goes. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) await this.stop('SIGINT').catch(() => this.child.kill('SIGKILL'));
    rmSync(this.#stateDir, { recursive: true, force: true });
  }
}

/** Names of the network namespaces of a run that exist now. */
export function runNamespaces(runId: string): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`trellis-${runId}-`));
}

/** Interfaces of this (the test's) network namespace. */
export function rootLinks(): Set<string> {
  const r = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return new Set(r.stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter(Boolean));
}

/** Lines of this namespace's firewall that mention Trellis (chains, rules, comments). */
export function rootTrellisRules(): string[] {
  const r = spawnSync('sh', ['-c', 'iptables-save 2>/dev/null; ip6tables-save 2>/dev/null'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => /trellis/i.test(l)).sort();
}

export function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}
