/**
 * The demo's apps as plain processes, started the way `trellis up` starts a
 * container: the command in examples/demo, only the environment it would
 * give (PATH, HOME and the pod's variables), stdout read line by line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const demoDir = fileURLToPath(new URL('../../../../examples/demo/', import.meta.url));

/** How long a stopped app may take to exit on SIGTERM before it is killed (and the test says so). */
export const STOP_GRACE_MS = 5000;

/** Every app started and not yet reaped: killed when the test process exits, whatever happened. */
const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of alive) c.kill('SIGKILL');
});

/** The first executable `name` on PATH, as a shell (and `trellis up`) would run it; undefined if there is none. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From SIGTERM to exit. */
  ms: number;
  /** True when it had to be SIGKILLed after STOP_GRACE_MS. */
  killed: boolean;
}

export class DemoApp {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<void>;
  #waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  #exit: Exit | undefined;

  /** `program` is "node" (this Node.js, as `trellis up` runs it) or a path; `script` is relative to examples/demo. */
  constructor(readonly name: string, program: string, script: string, env: Record<string, string>) {
    this.child = spawn(program === 'node' ? process.execPath : program, [script], {
      cwd: demoDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.HOME ? { HOME: process.env.HOME } : {}), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    alive.add(this.child);
    this.exited = new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      // A program that cannot start (ENOENT) emits 'error' and never 'exit'.
      this.child.on('error', (err) => {
        this.stderr.push(`spawn failed: ${err.message}`);
        if (this.child.pid === undefined) resolve();
      });
    }).then(() => void alive.delete(this.child));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((w) => {
        const m = w.re.exec(line);
        if (m) w.resolve(m);
        return !m;
      });
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line));
  }

  /** The first stdout line (past or future) matching `re`; rejects after `ms` or when the app exits first, with its stderr. */
  waitForLine(re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    for (const l of this.lines) {
      const m = re.exec(l);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`${this.name}: ${why} waiting for ${re}; stdout:\n${this.lines.slice(-10).join('\n')}\nstderr:\n${this.stderr.slice(-20).join('\n')}`));
      const timer = setTimeout(() => fail(`no line within ${ms} ms`), ms);
      const waiter = { re, resolve: (m: RegExpMatchArray) => (clearTimeout(timer), resolve(m)) };
      this.#waiters.push(waiter);
      void this.exited.then(() => {
        if (this.#waiters.includes(waiter)) {
          clearTimeout(timer);
          fail(`exited (code ${this.child.exitCode}, signal ${this.child.signalCode})`);
        }
      });
    });
  }

  /** Waits for the app's "listening on HOST:PORT" line; returns both. */
  async listening(ms = 10_000): Promise<{ host: string; port: number }> {
    const m = await this.waitForLine(/listening on (\S+):(\d+) /, ms);
    return { host: m[1]!, port: Number(m[2]) };
  }

  /** SIGTERM, then SIGKILL after STOP_GRACE_MS; how it ended. Idempotent. */
  async stop(): Promise<Exit> {
    if (this.#exit) return this.#exit;
    const started = Date.now();
    let killed = false;
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        killed = true;
        this.child.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    } else if (this.child.pid !== undefined) {
      await this.exited;
    }
    this.#exit = { code: this.child.exitCode, signal: this.child.signalCode, ms: Date.now() - started, killed };
    return this.#exit;
  }
}
