import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import { parsePort } from './flags.js';
import { addressFlag, choiceFlag, CONTROL_PLANE_HELP, runDebug, usageExits } from './debug-command.js';

interface Flags {
  admin?: string;
  controlPlane?: string;
  namespace?: string;
  file?: string;
  output?: string;
  name?: string;
  port?: string;
  fqdn?: string;
  subset?: string;
  direction?: string;
  cluster?: string;
  address?: string;
  type?: string;
  status?: string;
  level?: string;
  reset?: boolean;
}

type Filter = 'name' | 'port' | 'fqdn' | 'subset' | 'direction' | 'cluster' | 'address' | 'type' | 'status';

interface Kind {
  type: 'listeners' | 'routes' | 'clusters' | 'endpoints' | 'secret' | 'log' | 'bootstrap' | 'all';
  aliases: string[];
  what: string;
  filters: Filter[];
  example: string;
}

const FILTER_HELP: Record<Filter, [string, string]> = {
  name: ['--name <name>', 'routes: only the route configuration of this name'],
  port: ['--port <port>', 'only this port (clusters: "|PORT|" in the name)'],
  fqdn: ['--fqdn <fqdn>', 'clusters: names containing this service FQDN'],
  subset: ['--subset <subset>', 'clusters: names containing this subset'],
  direction: ['--direction <dir>', 'clusters: inbound or outbound'],
  cluster: ['--cluster <name>', 'endpoints: only this cluster'],
  address: ['--address <ip>', 'listeners and endpoints: only this address'],
  type: ['--type <type>', 'listeners: HTTP, TCP, HTTP+TCP or UNKNOWN'],
  status: ['--status <status>', 'endpoints: HEALTHY, UNHEALTHY, ...'],
};

const KINDS: Kind[] = [
  { type: 'listeners', aliases: ['listener', 'l'], what: 'listeners: ADDRESSES, PORT, MATCH, DESTINATION', filters: ['address', 'port', 'type'], example: 'trellis proxy-config listeners productpage-v1 --port 9080' },
  { type: 'routes', aliases: ['route', 'r'], what: 'routes: NAME, VHOST NAME, DOMAINS, MATCH, VIRTUAL SERVICE', filters: ['name'], example: 'trellis proxy-config routes productpage-v1 --name 9080' },
  { type: 'clusters', aliases: ['cluster', 'c'], what: 'clusters: SERVICE FQDN, PORT, SUBSET, DIRECTION, TYPE, DESTINATION RULE', filters: ['fqdn', 'port', 'subset', 'direction'], example: 'trellis proxy-config clusters productpage-v1 --fqdn reviews.default.svc.cluster.local' },
  { type: 'endpoints', aliases: ['endpoint', 'ep'], what: 'endpoints: ENDPOINT, STATUS, OUTLIER CHECK, CLUSTER (from /clusters)', filters: ['address', 'port', 'cluster', 'status'], example: "trellis proxy-config endpoints productpage-v1 --cluster 'outbound|9080|v1|reviews.default.svc.cluster.local'" },
  { type: 'secret', aliases: ['secrets', 's'], what: 'SDS secrets: RESOURCE NAME, TYPE, STATUS, VALID CERT, SERIAL NUMBER, NOT AFTER, NOT BEFORE', filters: [], example: 'trellis proxy-config secret productpage-v1' },
  { type: 'log', aliases: ['o'], what: 'log levels, read or changed (POST /logging)', filters: [], example: 'trellis proxy-config log productpage-v1 --level rbac:debug' },
  { type: 'bootstrap', aliases: ['b'], what: 'the bootstrap: node, ADS server, admin address (JSON by default)', filters: [], example: 'trellis proxy-config bootstrap productpage-v1 -o yaml' },
  { type: 'all', aliases: ['a'], what: 'everything above in one summary (-o json: the whole /config_dump)', filters: ['fqdn', 'port', 'subset', 'direction', 'name', 'address', 'type', 'cluster', 'status'], example: 'trellis proxy-config all productpage-v1.default' },
];

export function registerProxyConfig(program: Command): void {
  const pc = program
    .command('proxy-config')
    .alias('pc')
    .description("what one proxy runs, from its admin API, with istioctl proxy-config's columns")
    .addHelpText('after', `
Examples:
  trellis proxy-config clusters productpage-v1
  trellis proxy-config routes reviews-v1.default --name 9080 -o json
  trellis proxy-config log productpage-v1 --level rbac:debug`);
  usageExits(pc);
  for (const k of KINDS) registerKind(pc, k);
}

function registerKind(pc: Command, k: Kind): void {
  const cmd = pc.command(`${k.type} [pod]`).aliases(k.aliases).description(k.what)
    .option('--admin <host:port>', "the proxy's admin API (default: the pod's, from the running mesh)")
    .option('--control-plane <host:port>', CONTROL_PLANE_HELP)
    .option('-n, --namespace <ns>', 'the pod\'s namespace, when POD does not say (POD.NAMESPACE)')
    .option('-f, --file <config_dump.json>', 'read a saved /config_dump instead of a running proxy');
  if (k.type !== 'log') cmd.option('-o, --output <format>', 'short, json or yaml', k.type === 'bootstrap' ? 'json' : 'short');
  for (const f of k.filters) cmd.option(...FILTER_HELP[f]);
  if (k.type === 'log') {
    cmd.option('--level <spec>', 'LEVEL for every logger, or LOGGER:LEVEL,...; levels: trace, debug, info, warning, error, critical, off')
      .option('-r, --reset', 'every logger back to Trellis\' default level (info)');
  }
  cmd.addHelpText('after', `
POD is NAME or NAME.NAMESPACE; its admin address comes from the running mesh
(trellis up), or give --admin HOST:PORT (then POD only names it).

Exit codes: 0 ok, 1 error (unknown pod, proxy unreachable), 2 usage.

Example:
  ${k.example}`);
  cmd.action((pod: string | undefined, flags: Flags) => runDebug(() => run(k, pod, flags)));
  usageExits(cmd);
}

async function run(k: Kind, pod: string | undefined, flags: Flags): Promise<number> {
  const output = k.type === 'log' ? 'short' : choiceFlag('--output', flags.output ?? 'short', ['short', 'json', 'yaml'] as const);
  const admin = addressFlag('--admin', flags.admin);
  const controlPlane = addressFlag('--control-plane', flags.controlPlane);
  const port = flags.port === undefined ? undefined : parsePort('--port', flags.port);
  if (flags.direction !== undefined && flags.direction !== 'inbound' && flags.direction !== 'outbound') throw new TrellisError('CLI_USAGE', `--direction must be inbound or outbound, not ${flags.direction}`);
  if (flags.level !== undefined && flags.reset) throw new TrellisError('CLI_USAGE', '--level cannot be combined with --reset');
  const [{ resolveTarget }, { locateMesh }, { proxyConfig }, { stdout }] = await Promise.all([
    import('../debug/proxy-config/target.js'), import('../debug/locate-mesh.js'), import('../debug/proxy-config/proxy-config.js'), import('../debug/output.js'),
  ]);
  const target = await resolveTarget({ pod, admin, file: flags.file, namespace: flags.namespace }, () => locateMesh({ controlPlane }));
  return proxyConfig({
    type: k.type,
    target,
    output,
    clusters: { fqdn: flags.fqdn, port, subset: flags.subset, direction: flags.direction },
    listeners: { address: flags.address, port, type: flags.type },
    endpoints: { address: flags.address, port, cluster: flags.cluster, status: flags.status },
    routeName: flags.name,
    level: flags.level,
    reset: flags.reset,
    warn: (t) => void process.stderr.write(t),
  }, stdout);
}
