import type { Command } from 'commander';
import { nonNegative, parsePort, withPortHint } from './flags.js';

interface Flags {
  configDir: string;
  bind: string;
  xdsPort: string;
  debugPort: string;
  trustDomain: string;
  debounceMs: string;
  emptyHoldMs: string;
}

export function registerControlplane(program: Command): void {
  program
    .command('controlplane')
    .description('run the control plane (istiod): watch a config directory, serve xDS')
    .requiredOption('--config-dir <dir>', 'directory of Kubernetes/Istio YAML, watched for changes')
    .option('--bind <addr>', 'address to listen on', '127.0.0.1')
    .option('--xds-port <port>', 'ADS gRPC port (0: any free port)', '15010')
    .option('--debug-port <port>', 'debug HTTP port: /debug/syncz, /debug/config_dump, /metrics, /ready (0: any)', '15014')
    .option('--trust-domain <domain>', 'SPIFFE trust domain', 'cluster.local')
    .option('--debounce-ms <ms>', 'quiet time before a config change is pushed', '100')
    .option('--empty-hold-ms <ms>', 'how long an emptied config directory must stay empty before the empty config is served', '5000')
    .action(async (f: Flags) => {
      const [{ ControlPlane }, { DirectorySource }] = await Promise.all([
        import('../controlplane/control-plane.js'),
        import('../controlplane/sources/directory-source.js'),
      ]);
      const xdsPort = parsePort('--xds-port', f.xdsPort);
      const debugPort = parsePort('--debug-port', f.debugPort);
      const cp = new ControlPlane({
        source: new DirectorySource(f.configDir, { emptyHoldMs: nonNegative('--empty-hold-ms', f.emptyHoldMs) }),
        bind: f.bind,
        xdsPort,
        debugPort,
        trustDomain: f.trustDomain,
        debounceMs: nonNegative('--debounce-ms', f.debounceMs),
      });
      const ports = await cp.start().catch(async (err: unknown) => {
        await cp.stop().catch(() => undefined);
        throw withPortHint(err, { '--xds-port': xdsPort, '--debug-port': debugPort });
      });
      // One machine-readable line on stdout: where to connect (tests and scripts read it).
      process.stdout.write(JSON.stringify({ xds: `${f.bind}:${ports.xdsPort}`, debug: `${f.bind}:${ports.debugPort}` }) + '\n');
      const stop = () => void cp.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
