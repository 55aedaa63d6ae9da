import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import { addressFlag, choiceFlag, runDebug, usageExits } from './debug-command.js';

interface Flags {
  admin?: string;
  node?: string;
  namespace?: string;
  file?: string;
  output: string;
  address?: string;
  workloadNamespace?: string;
  workloadNode?: string;
  serviceNamespace?: string;
  policyNamespace?: string;
  withHeaders?: boolean;
  level?: string;
  reset?: boolean;
}

interface Verb {
  verb: 'workloads' | 'services' | 'policies' | 'certificates' | 'all' | 'log';
  aliases: string[];
  what: string;
  example: string;
  /** istioctl's enforceSinglePod: the answer differs per node, so with several node proxies one must be named. */
  single: boolean;
}

// istioctl's verbs, its singular names as aliases.
const VERBS: Verb[] = [
  { verb: 'workloads', aliases: ['workload', 'w'], what: 'workloads: NAMESPACE, POD NAME, ADDRESS, NODE, WAYPOINT, PROTOCOL', example: 'trellis ztunnel-config workloads --workload-namespace shop', single: false },
  { verb: 'services', aliases: ['service', 's', 'svc'], what: 'services: NAMESPACE, SERVICE NAME, SERVICE VIP, WAYPOINT, ENDPOINTS (healthy/all)', example: 'trellis ztunnel-config services -o json', single: false },
  { verb: 'policies', aliases: ['policy', 'p', 'pol'], what: 'authorization policies: NAMESPACE, POLICY NAME, ACTION, SCOPE', example: 'trellis ztunnel-config policies', single: false },
  { verb: 'certificates', aliases: ['certificate', 'certs', 'cert'], what: 'certificates by identity: CERTIFICATE NAME, TYPE, STATUS, VALID CERT, SERIAL NUMBER, NOT AFTER, NOT BEFORE', example: 'trellis ztunnel-config certificates', single: true },
  { verb: 'all', aliases: [], what: 'every table above (-o json|yaml: the whole /config_dump)', example: 'trellis ztunnel-config all --with-headers', single: false },
  { verb: 'log', aliases: ['o'], what: "the node proxy's log levels, read or changed (POST /logging, as proxy-config log)", example: 'trellis ztunnel-config log --level ztunnel:debug', single: false },
];

export function registerZtunnelConfig(program: Command): void {
  const zc = program
    .command('ztunnel-config')
    .alias('zc')
    .description("what the node proxy (trellis ztunnel) knows, from its /config_dump, with istioctl ztunnel-config's columns")
    .addHelpText('after', `
Examples:
  trellis ztunnel-config workloads
  trellis ztunnel-config certificates
  trellis ztunnel-config workloads web-7c9f8-abcde.shop   (that pod's row, from its node's proxy)`);
  usageExits(zc);
  for (const v of VERBS) registerVerb(zc, v);
}

function registerVerb(zc: Command, v: Verb): void {
  const cmd = zc.command(`${v.verb} [pod]`).aliases(v.aliases).description(v.what)
    .option('--admin <host:port>', "the node proxy's admin API (default: from the running mesh)")
    .option('--node <node>', 'the node proxy of this node')
    .option('-n, --namespace <ns>', "POD's namespace, when POD does not say (POD.NAMESPACE)")
    .option('-o, --output <format>', 'short, json or yaml', 'short');
  if (v.verb !== 'log') cmd.option('-f, --file <config_dump.json>', 'read a saved node proxy /config_dump instead');
  if (v.verb === 'log') {
    cmd.option('--level <spec>', 'LEVEL for every logger, or LOGGER:LEVEL,...; levels: trace, debug, info, warning, error, critical, off')
      .option('-r, --reset', "every logger back to Trellis' default level (info)");
  }
  if (v.verb === 'workloads') {
    cmd.option('--address <ip>', 'only workloads with this address')
      .option('--workload-namespace <ns>', 'only workloads of this namespace')
      .option('--workload-node <node>', 'only workloads on this node');
  }
  if (v.verb === 'services') cmd.option('--service-namespace <ns>', 'only services of this namespace');
  if (v.verb === 'policies') cmd.option('--policy-namespace <ns>', 'only policies of this namespace');
  if (v.verb === 'all') cmd.option('--with-headers', 'a "------ WORKLOAD INFO ------" line before each table');
  cmd.addHelpText('after', `
POD is a node proxy (ztunnel-NODE.istio-system, as proxy-status names it) or a
workload pod (NAME or NAME.NAMESPACE): then its node's proxy is read, and
workloads shows that pod only. Without POD: the mesh's node proxy (trellis up
runs one, in its node namespace: reading its admin API needs root).
At most one of POD, --node and --file.

Exit codes: 0 ok, 1 error (no node proxy, unknown pod, unreachable), 2 usage.

Example:
  ${v.example}`);
  cmd.action((pod: string | undefined, flags: Flags) => runDebug(() => run(v, pod, flags)));
  usageExits(cmd);
}

async function run(v: Verb, pod: string | undefined, flags: Flags): Promise<number> {
  const output = choiceFlag('--output', flags.output, ['short', 'json', 'yaml'] as const);
  const admin = addressFlag('--admin', flags.admin);
  if (v.verb === 'log' && output !== 'short') throw new TrellisError('CLI_USAGE', '--output is not applicable for this command');
  if (flags.level !== undefined && flags.reset) throw new TrellisError('CLI_USAGE', '--level cannot be combined with --reset');
  const [{ resolveZtunnelTarget }, { ztunnelConfig }, { proxyConfig }, { stdout }] = await Promise.all([
    import('../debug/ztunnel-config/target.js'), import('../debug/ztunnel-config/ztunnel-config.js'), import('../debug/proxy-config/proxy-config.js'), import('../debug/output.js'),
  ]);
  const target = await resolveZtunnelTarget({ pod, admin, node: flags.node, file: flags.file, namespace: flags.namespace, single: v.single });
  if (v.verb === 'log') {
    // The node proxy's /logging is the sidecar's (Envoy's): proxy-config log reads and changes it.
    const none = {};
    return proxyConfig({ type: 'log', target, output: 'short', clusters: none, listeners: none, endpoints: none, level: flags.level, reset: flags.reset, warn: () => undefined }, stdout);
  }
  return ztunnelConfig({
    verb: v.verb,
    target,
    output,
    workloads: { address: flags.address, namespace: flags.workloadNamespace, node: flags.workloadNode },
    serviceNamespace: flags.serviceNamespace,
    policyNamespace: flags.policyNamespace,
    withHeaders: flags.withHeaders === true,
  }, stdout);
}
