import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import { choiceFlag, runDebug, usageExits } from './debug-command.js';

interface Flags {
  output: string;
  outputThreshold: string;
  failureThreshold: string;
}

const LEVELS = ['Info', 'Warning', 'Error'] as const;

export function registerAnalyze(program: Command): void {
  const cmd = program
    .command('analyze [dir]')
    .description('validate config without running it: schema, unknown hosts and subsets, shadowing VirtualServices, ports without a protocol, conflicting PeerAuthentications')
    .option('-o, --output <format>', 'text, json or yaml', 'text')
    .option('--output-threshold <level>', 'show messages at least this severe: Info, Warning or Error', 'Info')
    .option('--failure-threshold <level>', 'exit 1 when a message is at least this severe', 'Error')
    .addHelpText('after', `
DIR is a directory of Kubernetes YAML (or one file), read with the control
plane's own loader; without DIR, the running mesh's config directory
(trellis up). Messages use istioctl analyze's codes and words (IST0101
ReferencedResourceNotFound, IST0109, IST0118, ...), each with a suggested fix;
TRL codes are checks Istio does not make.

Exit codes: 0 nothing at the failure threshold (warnings and info are fine),
1 an error (or a message at --failure-threshold), 2 usage.

Examples:
  trellis analyze examples/grpc-split
  trellis analyze mesh/ --output-threshold Warning -o json`)
    .action((dir: string | undefined, flags: Flags) => runDebug(async () => {
      const output = choiceFlag('--output', flags.output, ['text', 'json', 'yaml'] as const);
      const outputThreshold = choiceFlag('--output-threshold', flags.outputThreshold, LEVELS);
      const failureThreshold = choiceFlag('--failure-threshold', flags.failureThreshold, LEVELS);
      const path = dir ?? (await runningConfigDir());
      const [{ runAnalyze }, { stdout, colorEnabled }] = await Promise.all([import('../debug/analyze/run-analyze.js'), import('../debug/output.js')]);
      return runAnalyze({ path, output, outputThreshold, failureThreshold, color: colorEnabled() }, stdout, (t) => void process.stderr.write(t));
    }));
  usageExits(cmd);
}

async function runningConfigDir(): Promise<string> {
  const { readStateFile } = await import('../local/state-file.js');
  const found = await readStateFile();
  if (found?.state.configDir && !found.stale) return found.state.configDir;
  throw new TrellisError('CLI_USAGE', 'name the config directory to analyze (no running mesh tells which)');
}
