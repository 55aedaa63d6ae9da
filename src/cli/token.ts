import type { Command } from 'commander';
import { durationSeconds } from './flags.js';

interface TokenFlags {
  caDir: string;
  namespace: string;
  serviceAccount: string;
  ttl: string;
  audience: string;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('workload tokens: what a workload shows the CA to get its certificate');
  token
    .command('create')
    .description('print a workload JWT for NAMESPACE/SERVICE_ACCOUNT, signed with the CA directory\'s token key')
    .requiredOption('--ca-dir <dir>', 'the control plane\'s CA directory (token-key.pem is created there when missing)')
    .requiredOption('--namespace <ns>', 'Kubernetes namespace of the workload')
    .requiredOption('--service-account <sa>', 'service account of the workload')
    .option('--ttl <duration>', 'token lifetime', '24h')
    .option('--audience <aud>', 'token audience (the CA accepts istio-ca)', 'istio-ca')
    .action(async (f: TokenFlags) => {
      const ttlSeconds = durationSeconds('--ttl', f.ttl);
      // Imported here, not at the top: `trellis` loads only the subcommand it runs.
      const { LocalTokenIssuer } = await import('../ca/token.js');
      const jwt = LocalTokenIssuer.open(f.caDir).createToken({ namespace: f.namespace, serviceAccount: f.serviceAccount, ttlSeconds, audience: f.audience });
      process.stdout.write(jwt + '\n');
    });
}
