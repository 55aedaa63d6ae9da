import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import { addressFlag, choiceFlag, CONTROL_PLANE_HELP, runDebug, usageExits } from './debug-command.js';

interface Flags {
  admin?: string;
  controlPlane?: string;
  namespace?: string;
  path?: string;
  method?: string;
  authority?: string;
  maxRps?: string;
  headers?: boolean;
  output?: string;
}

export function registerTap(program: Command): void {
  const cmd = program
    .command('tap')
    .description("live requests through one proxy, as Linkerd's tap: req, rsp and end events with status, latency, bytes, route, cluster, endpoint and response flags")
    .argument('[pod]', 'NAME or NAME.NAMESPACE of a pod of the running mesh (trellis up)')
    .option('--admin <host:port>', "the proxy's admin API (default: the pod's, from the running mesh)")
    .option('--control-plane <host:port>', CONTROL_PLANE_HELP)
    .option('-n, --namespace <ns>', "the pod's namespace, when POD does not say (POD.NAMESPACE)")
    .option('--path <prefix>', 'only requests whose path starts with this')
    .option('--method <method>', 'only requests with this HTTP method')
    .option('--authority <authority>', 'only requests with this :authority (Host)')
    .option('--max-rps <n>', 'at most this many requests a second; the proxy drops and counts the rest (/stats tap.rq_dropped_max_rps)', '100')
    .option('--headers', 'show request and response headers (authorization, proxy-authorization, cookie and set-cookie redacted)')
    .option('-o, --output <format>', 'default (linkerd viz tap\'s lines), wide (with peer and route labels and response flags) or json (one event a line)', 'default')
    .addHelpText('after', `
Runs until Ctrl-C or until the proxy goes away.

Exit codes: 0 stopped, 1 error (unknown pod, proxy unreachable), 2 usage.

Examples:
  trellis tap productpage-v1 --path /reviews --method GET
  trellis tap --admin 127.0.0.1:15000 -o json --headers`)
    .action((pod: string | undefined, flags: Flags) => runDebug(() => run(pod, flags)));
  usageExits(cmd);
}

async function run(pod: string | undefined, flags: Flags): Promise<number> {
  const output = choiceFlag('--output', flags.output ?? 'default', ['default', 'wide', 'json'] as const);
  const admin = addressFlag('--admin', flags.admin);
  if (pod === undefined && admin === undefined) throw new TrellisError('CLI_USAGE', 'name a POD, or give --admin HOST:PORT');
  const controlPlane = addressFlag('--control-plane', flags.controlPlane);
  const [{ resolveTarget }, { locateMesh }, { streamTap, tapQuery }, { stdout }] = await Promise.all([
    import('../debug/proxy-config/target.js'), import('../debug/locate-mesh.js'), import('../debug/tap/tap-stream.js'), import('../debug/output.js'),
  ]);
  const path = tapQuery(flags);
  const target = await resolveTarget({ pod, admin, namespace: flags.namespace }, () => locateMesh({ controlPlane }));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await streamTap({ ...target, admin: target.admin! }, path, output, stdout, stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
