/**
 * `trellis iptables ambient`: the in-pod redirection of an ambient pod, as
 * Istio's CNI agent writes it into the pod's namespace (no sidecar; the node
 * proxy listens in the pod). Applies in the current namespace or --netns;
 * --dry-run prints the restore input and the policy route; --cleanup
 * removes both. Failures: one line on stderr, exit code 2.
 */
import { Command, Option } from 'commander';
import { isIPv4, isIPv6 } from 'node:net';
import { errorMessage } from '../errors.js';
import { renderRestore, type BackendKind } from '../iptables/index.js';
import {
  INPOD_ROUTE, applyInpodRedirect, buildHostProbeRules, buildInpodRules, cleanupInpodRedirect, defaultInpodConfig,
  type InpodConfig, type PodDnsOverride,
} from '../ztunnel/redirect/index.js';

const EXIT_FAILURE = 2;

interface Parsed {
  config: InpodConfig;
  errors: string[];
}

/** Commander's options → a config, every problem collected with its flag. */
export function inpodConfigFromOptions(o: Record<string, unknown>): Parsed {
  const config = defaultInpodConfig();
  const errors: string[] = [];
  config.redirectDns = o.redirectDns === true;
  config.podDns = (o.podDns as PodDnsOverride | undefined) ?? 'unset';
  config.ingressMode = o.ingress === true;
  config.ipv6 = o.ipv6 !== false;
  const nics = String(o.virtualInterfaces ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  nics.forEach((n, i) => { if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(n)) errors.push(`--virtual-interfaces[${i}]: ${JSON.stringify(n)} is not an interface name`); });
  config.virtualInterfaces = nics;
  if (o.probeSnatAddress !== undefined) config.probeSnatV4 = String(o.probeSnatAddress);
  if (o.probeSnatV6Address !== undefined) config.probeSnatV6 = String(o.probeSnatV6Address);
  if (!isIPv4(config.probeSnatV4)) errors.push(`--probe-snat-address: ${JSON.stringify(config.probeSnatV4)} is not an IPv4 address`);
  if (!isIPv6(config.probeSnatV6)) errors.push(`--probe-snat-v6-address: ${JSON.stringify(config.probeSnatV6)} is not an IPv6 address`);
  return { config, errors };
}

function dryRun(config: InpodConfig, hostRules: boolean): string {
  const rules = hostRules ? buildHostProbeRules(config) : buildInpodRules(config);
  let out = `# iptables-restore --noflush\n${renderRestore(rules.v4)}`;
  if (config.ipv6) out += `# ip6tables-restore --noflush\n${renderRestore(rules.v6)}`;
  if (hostRules) return out;
  const selector = `fwmark ${INPOD_ROUTE.mark} pref ${INPOD_ROUTE.priority} lookup ${INPOD_ROUTE.table}`;
  for (const [fam, dst] of config.ipv6 ? [['-4', '0.0.0.0/0'], ['-6', '::/0']] : [['-4', '0.0.0.0/0']]) {
    out += `# ip ${fam} rule add ${selector}\n# ip ${fam} route replace local ${dst} dev lo table ${INPOD_ROUTE.table}\n`;
  }
  return out;
}

async function runAmbient(o: Record<string, unknown>): Promise<void> {
  const { config, errors } = inpodConfigFromOptions(o);
  if (o.hostRules === true && o.dryRun !== true) errors.push('--host-rules: only with --dry-run (the node\'s probe SNAT needs the kubelet\'s ipset, which trellis up has no use for)');
  if (errors.length > 0) {
    process.stderr.write(errors.map((e) => `trellis iptables ambient: ${e}\n`).join(''));
    process.exitCode = EXIT_FAILURE;
    return;
  }
  if (o.dryRun === true) {
    process.stdout.write(o.cleanup === true
      ? `# --cleanup removes every TRELLIS_* chain, every rule commented "trellis" in built-in chains,\n# and the reply route (fwmark ${INPOD_ROUTE.mark} lookup ${INPOD_ROUTE.table}); nothing else.\n`
      : dryRun(config, o.hostRules === true));
    return;
  }
  const opts = { ...(o.backend ? { backend: o.backend as BackendKind } : {}), ...(o.netns ? { netns: String(o.netns) } : {}) };
  const result = o.cleanup === true ? await cleanupInpodRedirect(opts) : await applyInpodRedirect(config, opts);
  const what = o.cleanup === true ? 'removed in-pod redirection' : `applied in-pod redirection (${config.ipv6 ? 'IPv4+IPv6' : 'IPv4'})`;
  process.stdout.write(`trellis iptables ambient: ${what} using iptables back end ${result.backend.kind} (${result.backend.version})\n`);
}

/** Registers `trellis iptables ambient` under the `trellis iptables` command. */
export function registerIptablesAmbient(iptables: Command): void {
  // Flags `trellis iptables` already has (--dry-run, --cleanup, --redirect-dns, --[no-]ipv6, --backend)
  // are parsed by it wherever they stand, so they are read from there (optsWithGlobals), never defined twice.
  iptables
    .command('ambient')
    .description('set up an ambient pod\'s in-pod redirection to the node proxy (Istio CNI\'s rules); '
      + 'takes `trellis iptables`\' --dry-run, --cleanup, --redirect-dns (to port 15053), --no-ipv6 and --backend')
    .addOption(new Option('--pod-dns <override>', 'the pod\'s own DNS capture setting, over --redirect-dns').choices(['enabled', 'disabled']))
    .option('--ingress', 'ingress pod: inbound traffic is not captured', false)
    .option('--virtual-interfaces <ifaces>', 'interfaces whose inbound TCP is treated as outbound', '')
    .option('--probe-snat-address <ip>', 'source of kubelet probes after the node\'s SNAT (IPv4)')
    .option('--probe-snat-v6-address <ip>', 'the same for IPv6')
    .option('--netns <name>', 'apply inside /var/run/netns/NAME instead of the current namespace')
    .option('--host-rules', 'with --dry-run: the node-side probe SNAT rules instead of the pod\'s', false)
    .action(async (_opts: Record<string, unknown>, cmd: Command) => {
      try {
        await runAmbient(cmd.optsWithGlobals());
      } catch (err) {
        process.stderr.write(`trellis iptables ambient: ${errorMessage(err)}\n`);
        process.exitCode = EXIT_FAILURE;
      }
    });
}
