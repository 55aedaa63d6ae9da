import type { Command } from 'commander';
import { addressFlag, choiceFlag, CONTROL_PLANE_HELP, runDebug, usageExits } from './debug-command.js';

interface Flags {
  controlPlane?: string;
  namespace?: string;
  output: string;
}

export function registerProxyStatus(program: Command): void {
  const cmd = program
    .command('proxy-status [pod]')
    .alias('ps')
    .description("sync status of every proxy (or one) with the control plane: istioctl proxy-status' columns from /debug/syncz")
    .option('--control-plane <host:port>', CONTROL_PLANE_HELP)
    .option('-n, --namespace <ns>', 'only proxies in this namespace')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .addHelpText('after', `
Each type column reads SYNCED (the proxy acknowledged what was sent), STALE
(sent, not acknowledged yet), ERROR (the proxy rejected it: a NACK), NOT SENT
or IGNORED (not subscribed), with the age of the last response. With POD, the
reason for every STALE or ERROR type follows the row.

Exit codes: 0 every proxy shown is in sync, 1 one is STALE or ERROR (or an
error), 2 usage.

Examples:
  trellis proxy-status
  trellis proxy-status reviews-v1.default --control-plane 127.0.0.1:15014`)
    .action((pod: string | undefined, flags: Flags) => runDebug(async () => {
      const output = choiceFlag('--output', flags.output, ['table', 'json', 'yaml'] as const);
      const controlPlane = addressFlag('--control-plane', flags.controlPlane);
      const { locateMesh } = await import('../debug/locate-mesh.js');
      const { proxyStatus } = await import('../debug/proxy-status/proxy-status.js');
      const { stdout } = await import('../debug/output.js');
      const mesh = await locateMesh({ controlPlane });
      return proxyStatus({ mesh, ...(pod === undefined ? {} : { pod }), ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }), output }, stdout);
    }));
  usageExits(cmd);
}
