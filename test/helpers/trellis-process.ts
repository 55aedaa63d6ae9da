import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The built CLI, as `npx trellis` runs it. */
export const trellisBin = fileURLToPath(new URL('../../bundle/main.js', import.meta.url));

/**
 * A real `trellis` child process whose stdout is read line by line.
 * Lines are kept so a test can wait for one that matches, with a deadline.
 */
export class TrellisProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  #waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  #listeners: ((line: string) => void)[] = [];

  /** `prefix`: a command the CLI runs under, e.g. ['ip', 'netns', 'exec', NS] to start it in a namespace. */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}, prefix: readonly string[] = []) {
    const argv = [...prefix, process.execPath, trellisBin, ...args];
    this.child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const l of this.#listeners) l(line);
      this.#waiters = this.#waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (process.env.TRELLIS_TEST_VERBOSE) process.stderr.write(`[child] ${line}\n`);
    });
  }

  /** Calls `fn` with every stdout line from now on. */
  onLine(fn: (line: string) => void): void {
    this.#listeners.push(fn);
  }

  /** Resolves with the first stdout line (past or future) that matches, or rejects after `timeoutMs`. */
  waitForLine(match: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line within ${timeoutMs} ms; stderr:\n${this.stderr.slice(-20).join('\n')}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

/** Parses a line as JSON, or undefined when it is not JSON. */
export function jsonLine<T = Record<string, unknown>>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}
