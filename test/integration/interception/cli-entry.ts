/**
 * Test helper process (not a test): `trellis iptables` alone, so the
 * interception tests do not depend on every other subcommand loading.
 * Usage: node cli-entry.js iptables [flags]. Without arguments it exits at once.
 */
import { Command } from 'commander';
import { registerIptables } from '../../../src/cli/iptables.js';

if (process.argv.length > 2) {
  const program = new Command('trellis');
  registerIptables(program);
  await program.parseAsync(process.argv);
}
