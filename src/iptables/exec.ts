/** Running the iptables / ip binaries, with their failures turned into clear TrellisErrors. */
import { spawn } from 'node:child_process';
import { TrellisError } from '../errors.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with optional stdin; resolves with its exit code (never rejects on a non-zero exit). */
export function run(cmd: string, args: readonly string[], input?: string, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // Our own timer rather than spawn's `timeout`, which outlives a failed spawn and holds the process.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') {
        reject(new TrellisError('IO', `${cmd} not found: install the iptables and iproute2 packages (Debian: apt-get install iptables iproute2)`, { cause: err }));
      } else {
        reject(new TrellisError('IO', `${cmd}: ${err.message}`, { cause: err }));
      }
    });
    child.stdin.on('error', () => { /* the exit code tells what went wrong */ });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr: signal === 'SIGKILL' ? `${stderr}\n${cmd}: killed after ${timeoutMs} ms` : stderr });
    });
    child.stdin.end(input ?? '');
  });
}

const PERMISSION = /permission denied|must be root|operation not permitted/i;

/** Runs and requires success; a lack of CAP_NET_ADMIN gets its own message. */
export async function runChecked(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code === 0) return r.stdout;
  const detail = r.stderr.trim().split('\n')[0] ?? '';
  if (PERMISSION.test(r.stderr)) {
    throw new TrellisError('IO', `${cmd}: permission denied: changing firewall rules needs CAP_NET_ADMIN in this network namespace (run as root, or grant NET_ADMIN)`, { cause: new Error(r.stderr.trim()) });
  }
  throw new TrellisError('IO', `${cmd} ${args.join(' ')} failed (exit ${r.code}): ${detail}`, { cause: new Error(r.stderr.trim()) });
}
