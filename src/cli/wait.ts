/**
 * `trellis wait`: pilot-agent wait. The classic layout's postStart hook on
 * the sidecar runs it, so Kubernetes starts the app containers only once the
 * proxy answers /healthz/ready on its health port (holdApplicationUntilProxyStarts).
 * Exit 0 when ready, 1 when the timeout passed first, 2 usage.
 */
import type { Command } from 'commander';
import { request } from 'node:http';
import { durationSeconds, parsePort } from './flags.js';
import { runDebug, usageExits, EXIT_FINDINGS, EXIT_OK } from './debug-command.js';

interface Flags {
  port: string;
  timeout: string;
  periodMs: string;
}

function ready(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz/ready', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export function registerWait(program: Command): void {
  const cmd = program
    .command('wait')
    .description('wait until the local proxy is ready (its health port answers /healthz/ready 200), as pilot-agent wait')
    .option('--port <port>', 'the proxy\'s health port (its --health-port)', '15021')
    .option('--timeout <duration>', 'give up after this long', '60s')
    .option('--period-ms <ms>', 'time between checks', '500')
    .action((flags: Flags) => runDebug(async () => {
      const port = parsePort('--port', flags.port);
      const deadline = Date.now() + durationSeconds('--timeout', flags.timeout) * 1000;
      const period = Math.max(10, Number(flags.periodMs) || 500);
      while (Date.now() < deadline) {
        if (await ready(port)) return EXIT_OK;
        await new Promise((r) => setTimeout(r, period));
      }
      process.stderr.write(`trellis wait: the proxy on port ${port} was not ready within ${flags.timeout}\n`);
      return EXIT_FINDINGS;
    }));
  usageExits(cmd);
}
