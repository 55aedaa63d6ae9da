/**
 * `trellis iptables`: the istio-init equivalent. Writes (or with --cleanup
 * removes) the capture rules in the current network namespace; --dry-run
 * prints the iptables-restore input instead. Failures are one line on
 * stderr and exit code 2, never a stack trace.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../errors.js';
import { env } from '../env.js';
import {
  addIptablesOptions, applyCapture, buildCaptureRules, cleanupCapture, configFromOptions, renderRestore,
} from '../iptables/index.js';
import { registerIptablesAmbient } from './iptables-ambient.js';

export const EXIT_FAILURE = 2;

function readResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

async function runIptables(given: Record<string, unknown>): Promise<void> {
  // As istio-iptables: ISTIO_META_DNS_CAPTURE=true (the pod's proxyMetadata) turns DNS capture on without the flag.
  const opts = env.dnsCapture ? { ...given, redirectDns: true } : given;
  const parsed = configFromOptions(opts, opts.redirectDns === true && opts.dnsServers === undefined ? readResolvConf() : '');
  if (parsed.errors.length > 0) {
    process.stderr.write(parsed.errors.map((e) => `trellis iptables: ${e}\n`).join(''));
    process.exitCode = EXIT_FAILURE;
    return;
  }
  const { config } = parsed;
  if (parsed.dryRun && parsed.cleanup) {
    // What cleanup removes depends on what is installed; apply's dry run shows what would be.
    process.stdout.write('# --cleanup removes every TRELLIS_* chain, every rule commented "trellis" in built-in chains,\n'
      + `# and the TPROXY policy route (fwmark ${config.tproxyMark} lookup ${config.tproxyRouteTable}); nothing else.\n`);
    return;
  }
  if (parsed.dryRun) {
    const rules = buildCaptureRules(config);
    process.stdout.write(`# iptables-restore --noflush\n${renderRestore(rules.v4)}`);
    if (config.ipv6) process.stdout.write(`# ip6tables-restore --noflush\n${renderRestore(rules.v6)}`);
    return;
  }
  const opt = parsed.backend ? { backend: parsed.backend } : {};
  const result = parsed.cleanup ? await cleanupCapture(config, opt) : await applyCapture(config, opt);
  const what = parsed.cleanup ? 'removed capture rules' : `applied capture rules (${config.inboundMode}${config.ipv6 ? ', IPv4+IPv6' : ', IPv4'})`;
  process.stdout.write(`trellis iptables: ${what} using iptables back end ${result.backend.kind} (${result.backend.version})\n`);
}

/** Registers `trellis iptables [istio-iptables flags] [--dry-run] [--cleanup]`. */
export function registerIptables(program: Command): void {
  const cmd = program
    .command('iptables')
    .description('set up transparent capture of the pod\'s traffic to the sidecar (istio-iptables flags)');
  addIptablesOptions(cmd).action(async (opts: Record<string, unknown>) => {
    try {
      await runIptables(opts);
    } catch (err) {
      process.stderr.write(`trellis iptables: ${errorMessage(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    }
  });
  registerIptablesAmbient(cmd);
}
