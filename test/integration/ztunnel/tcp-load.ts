/**
 * Test app (not a test): new TCP connections to HOST PORT for SECONDS,
 * WORKERS at a time, each one expecting the identity server's JSON line.
 * Prints one JSON line: ok, failed, errors (by code). Every connection is a
 * new tunnel, so a certificate that stops working shows as failures.
 * Usage: node tcp-load.js HOST PORT SECONDS WORKERS
 */
import { connect } from 'node:net';

const [host = '', port = '0', seconds = '5', workers = '4'] = process.argv.slice(2);
const errors: Record<string, number> = {};
let ok = 0;
let failed = 0;

function one(): Promise<void> {
  return new Promise((resolve) => {
    let data = '';
    let settled = false;
    const settle = (code?: string) => {
      if (settled) return;
      settled = true;
      if (code === undefined) ok++;
      else (failed++, (errors[code] = (errors[code] ?? 0) + 1));
      resolve();
    };
    const s = connect({ host, port: Number(port) });
    s.setTimeout(5000, () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    s.setEncoding('utf8').on('data', (d: string) => (data += d));
    s.on('end', () => settle(data.trim().startsWith('{') ? undefined : 'no answer'));
    s.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
  });
}

const until = Date.now() + Number(seconds) * 1000;
const worker = async () => {
  while (Date.now() < until) await one();
};
await Promise.all(Array.from({ length: Number(workers) }, worker));
process.stdout.write(`${JSON.stringify({ ok, failed, errors })}\n`);
