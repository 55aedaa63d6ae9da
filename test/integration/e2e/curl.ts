/**
 * curl and openssl against a gateway, for the end-to-end tests: the
 * status, headers and body of one request (asynchronous, so a backend in
 * the test's own event loop can answer), and a bounded poll for config that
 * arrives after a proxy starts.
 */
import { execFile } from 'node:child_process';

export interface Curl { code: number; status: string; headers: string; body: string; stderr: string }

/** Asynchronous: the backend answers from this process's event loop. */
export async function curl(args: string[]): Promise<Curl> {
  const r = await run('curl', ['-sS', '--max-time', '5', '-D', '-', '-o', '-', ...args]);
  const out = r.stdout;
  const split = out.indexOf('\r\n\r\n');
  const headers = split < 0 ? out : out.slice(0, split);
  return { code: r.code, status: headers.split(' ')[1] ?? '', headers, body: split < 0 ? '' : out.slice(split + 4), stderr: r.stderr };
}

export function run(cmd: string, args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'utf8', timeout: 8000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** Polls until `ok` holds (bounded: 75 tries, 200 ms apart): the proxy gets its config after it starts. */
export async function eventually(f: () => Promise<Curl>, ok: (c: Curl) => boolean): Promise<Curl> {
  let c = await f();
  for (let i = 0; i < 75 && !ok(c); i++) {
    await new Promise((r) => setTimeout(r, 200));
    c = await f();
  }
  return c;
}

