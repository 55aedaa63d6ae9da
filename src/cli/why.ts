import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import { addressFlag, choiceFlag, CONTROL_PLANE_HELP, runDebug, usageExits } from './debug-command.js';

interface Flags {
  output?: string;
  log?: string;
  logFormat?: string;
  pod?: string;
  admin?: string;
  controlPlane?: string;
  namespace?: string;
}

export function registerWhy(program: Command): void {
  const cmd = program
    .command('why')
    .description("why a request failed: its access-log lines (client and server sidecar), each response flag joined with the config that caused it, and the command to run next")
    .argument('<request-id>', 'the x-request-id of the request (the access log\'s "%REQ(X-REQUEST-ID)%")')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--log <file>', 'read this access log (Envoy text format, or JSON lines; "-": stdin) instead of the running mesh\'s sidecars')
    .option('--log-format <format>', 'the text format of --log (default: Istio\'s)')
    .option('--pod <pod>', 'with --log: the pod whose proxy wrote it, to read its configuration')
    .option('--admin <host:port>', 'with --log: that proxy\'s admin API')
    .option('--control-plane <host:port>', CONTROL_PLANE_HELP)
    .option('-n, --namespace <ns>', 'the namespace of --pod')
    .addHelpText('after', `
Without --log, the sidecars' logs of the running mesh (trellis up) are
searched and each line is explained with the configuration of the proxy
that wrote it (its /config_dump and /clusters).

Exit codes: 0 found, 1 error (no line with that id, mesh not running), 2 usage.

Examples:
  trellis why 5e3c1a2b-8d0f-4c1e-9a57-2f9b1d3c4e5f
  kubectl logs deploy/productpage -c istio-proxy | trellis why 5e3c... --log - -o json`)
    .action((requestId: string, f: Flags) => runDebug(async () => {
      const output = choiceFlag('--output', f.output ?? 'text', ['text', 'json'] as const);
      const admin = addressFlag('--admin', f.admin);
      const controlPlane = addressFlag('--control-plane', f.controlPlane);
      if ((f.pod !== undefined || admin !== undefined) && f.log === undefined) throw new TrellisError('CLI_USAGE', '--pod and --admin name the proxy that wrote --log; without --log every sidecar of the running mesh is read');
      const [{ runWhy }, { resolveTarget }, { locateMesh }, { stdout }] = await Promise.all([
        import('../debug/why/why.js'), import('../debug/proxy-config/target.js'), import('../debug/locate-mesh.js'), import('../debug/output.js'),
      ]);
      const target = f.pod !== undefined || admin !== undefined ? await resolveTarget({ pod: f.pod, admin, namespace: f.namespace }, () => locateMesh({ controlPlane })) : undefined;
      return runWhy({ requestId, output, ...(f.log !== undefined ? { log: f.log } : {}), ...(f.logFormat !== undefined ? { format: f.logFormat } : {}), ...(target ? { target } : {}) }, stdout);
    }));
  usageExits(cmd);
}
