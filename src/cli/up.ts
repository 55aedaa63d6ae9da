import type { Command } from 'commander';
import { existsSync, realpathSync } from 'node:fs';
import { TrellisError } from '../errors.js';
import { nonNegative } from './flags.js';

interface UpFlags {
  loopback?: boolean;
  statusEvery: string;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run a whole mesh on this machine from a directory of Kubernetes + Istio YAML (default: the bundled demo)')
    .argument('[dir]', 'directory of Namespaces, Services, Deployments, Pods and Istio config; edits are followed')
    .option('--loopback', 'loopback mode even as root: 127.x addresses, no network namespaces, no kernel capture')
    .option('--status-every <seconds>', 'without a terminal: print the status block this often', '10')
    .addHelpText('after', `
Example:
  sudo npx trellis up examples/demo     # network namespaces, iptables capture, sidecars as uid 1337
  npx trellis up --loopback my-app/     # no root needed: loopback addresses, no capture

Then, in another terminal: trellis get pods -A -o wide, trellis exec POD -- curl …, trellis logs POD -c proxy.`)
    .action(async (dir: string | undefined, f: UpFlags) => {
      const { runUp, bundledDemoDir } = await import('../local/up/up.js');
      const main = realpathSync(process.argv[1]!);
      const demo = bundledDemoDir(main);
      if (dir === undefined && !existsSync(demo)) throw new TrellisError('CLI_USAGE', `no DIR given, and the bundled demo is not at ${demo}: trellis up DIR`);
      const code = await runUp({
        dir: dir ?? demo,
        loopback: f.loopback === true,
        statusEveryMs: nonNegative('--status-every', f.statusEvery) * 1000,
        trellis: [process.execPath, main],
      });
      process.exit(code);
    });
}
