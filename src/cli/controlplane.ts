import type { Command } from 'commander';

export function registerControlplane(program: Command): void {
  program
    .command('controlplane')
    .description('run the control plane (istiod): watch a config directory, serve xDS')
    .requiredOption('--config-dir <dir>', 'directory of Kubernetes/Istio YAML, watched for changes')
    .option('--bind <addr>', 'address to listen on', '127.0.0.1')
    .option('--xds-port <port>', 'ADS gRPC port', '15010')
    .option('--debug-port <port>', 'debug HTTP port (/debug/syncz, /metrics, /ready)', '15014')
    .option('--trust-domain <domain>', 'SPIFFE trust domain', 'cluster.local')
    .option('--debounce-ms <ms>', 'quiet time before a config change is pushed', '100')
    .action(async () => {
      throw new Error('controlplane: not wired yet');
    });
}
