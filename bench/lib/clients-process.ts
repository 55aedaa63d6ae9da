import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { jsonLine } from '../../test/helpers/trellis-process.js';

export type ClientLine = Record<string, number | Record<string, number>>;

/**
 * The push benchmark's client process (push-clients.ts), pinned to its own
 * core when `taskset` is there: its JSON lines kept and awaited, commands
 * written to its stdin.
 */
export class ClientsProcess {
  readonly child: ChildProcess;
  readonly #lines: ClientLine[] = [];
  #notify: () => void = () => undefined;

  constructor(script: string, args: string[], core: string | undefined) {
    const argv = [script, ...args];
    this.child = core !== undefined ? spawn('taskset', ['-c', core, process.execPath, ...argv]) : spawn(process.execPath, argv);
    this.child.stderr!.on('data', (d) => process.stderr.write(d));
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      const j = jsonLine<ClientLine>(l);
      if (j) this.#lines.push(j), this.#notify();
    });
  }

  /** The last line so far that matches. */
  last(pred: (j: ClientLine) => boolean): ClientLine | undefined {
    return this.#lines.findLast(pred);
  }

  send(cmd: object): void {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }

  /** The first line (past or future) that matches, or an error after `ms`. */
  waitLine(pred: (j: ClientLine) => boolean, ms: number, what: string): Promise<ClientLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout (${ms} ms) waiting for the clients: ${what}`)), ms);
      this.#notify = () => {
        const hit = this.#lines.find(pred);
        if (hit) clearTimeout(timer), (this.#notify = () => undefined), resolve(hit);
      };
      this.#notify();
    });
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}
