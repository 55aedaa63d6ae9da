import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import { addressFlag, choiceFlag, CONTROL_PLANE_HELP, runDebug, usageExits } from './debug-command.js';

interface Flags {
  from?: string;
  fromAdmin?: string;
  toAdmin?: string;
  namespace?: string;
  controlPlane?: string;
  request: string;
  header: string[];
  seed?: string;
  output: string;
}

const collect = (v: string, all: string[]) => [...all, v];

export function registerExplain(program: Command): void {
  const cmd = program
    .command('explain <url>')
    .description('what the mesh would do with one request, and why: each step through the source sidecar and the destination\'s, from their live config')
    .option('--from <pod>', 'the pod sending the request (POD, POD.NAMESPACE, deploy/NAME) of the running mesh')
    .option('--from-admin <host:port>', "the sending proxy's admin API instead of a pod (any proxy)")
    .option('--to-admin <host:port>', "the destination proxy's admin API, when the mesh does not know the pod at the endpoint")
    .option('-n, --namespace <ns>', "the pod's namespace, when POD does not say")
    .option('--control-plane <host:port>', CONTROL_PLANE_HELP)
    .option('-X, --request <method>', 'the HTTP method', 'GET')
    .option('-H, --header <k: v>', 'a request header (repeatable)', collect, [])
    .option('--seed <n>', 'derive the x-request-id from N: the weighted pick is the one the proxy makes for that id')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText('after', `
Every decision is the proxy's own code run on the proxies' /config_dump and
/clusters: listener and filter chain, route (and why earlier routes failed),
weighted pick, endpoints, retries, TLS, authorization. -o json names the
listener, route configuration and cluster as the config dump does; the
expected access-log lines (status, response flags, upstream cluster) end it.

Exit codes: 0 ok, 1 error (unknown pod, proxy unreachable), 2 usage.

Examples:
  trellis explain --from tester http://backend.shop:9080/
  trellis explain --from deploy/tester http://backend.shop:9080/ -H 'x-variant: v2' -o json
  trellis explain --from-admin 127.0.0.1:15000 --seed 7 http://reviews:9080/`)
    .action((url: string, flags: Flags) => runDebug(async () => {
      const output = choiceFlag('-o', flags.output, ['text', 'json'] as const);
      const fromAdmin = addressFlag('--from-admin', flags.fromAdmin);
      const toAdmin = addressFlag('--to-admin', flags.toAdmin);
      const controlPlane = addressFlag('--control-plane', flags.controlPlane);
      const seed = flags.seed === undefined ? undefined : Number(flags.seed);
      if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0)) throw new TrellisError('CLI_USAGE', `--seed wants a whole number, not ${flags.seed}`);
      const [{ explainRequest }, { renderExplanation }, { parseHeaderFlags }, { locateMesh }, { stdout, jsonText }] = await Promise.all([
        import('../debug/explain/explain.js'), import('../debug/explain/render-text.js'), import('../debug/explain/request.js'),
        import('../debug/locate-mesh.js'), import('../debug/output.js'),
      ]);
      const e = await explainRequest({
        url, method: flags.request, headers: parseHeaderFlags(flags.header), ...(seed !== undefined ? { seed } : {}),
        ...(flags.from !== undefined ? { from: flags.from } : {}), ...(fromAdmin ? { fromAdmin } : {}), ...(toAdmin ? { toAdmin } : {}),
        ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
        mesh: () => locateMesh({ ...(controlPlane ? { controlPlane } : {}) }),
      });
      stdout(output === 'json' ? jsonText(e) : renderExplanation(e));
      return 0;
    }));
  usageExits(cmd);
}
