import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import { durationSeconds } from './flags.js';

interface TokenFlags {
  caDir: string;
  namespace: string;
  serviceAccount: string;
  ttl: string;
  audience: string;
  pod?: string;
  podUid?: string;
  node?: string;
  nodeUid?: string;
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
    .option('--pod <name>', 'bind the token to this pod of --namespace (a node proxy\'s token: the CA finds its node from the pod)')
    .option('--pod-uid <uid>', 'the bound pod\'s metadata.uid (a re-created pod of the same name then no longer matches)')
    .option('--node <name>', 'bind the token to this node (a node proxy without a pod the control plane knows)')
    .option('--node-uid <uid>', 'the bound node\'s uid')
    .action(async (f: TokenFlags) => {
      const ttlSeconds = durationSeconds('--ttl', f.ttl);
      if (f.podUid !== undefined && f.pod === undefined) throw new TrellisError('CLI_USAGE', '--pod-uid needs --pod');
      if (f.nodeUid !== undefined && f.node === undefined) throw new TrellisError('CLI_USAGE', '--node-uid needs --node');
      const bound = (n: string | undefined, uid: string | undefined) => (n === undefined ? undefined : { name: n, ...(uid !== undefined ? { uid } : {}) });
      const pod = bound(f.pod, f.podUid);
      const node = bound(f.node, f.nodeUid);
      // Imported here, not at the top: `trellis` loads only the subcommand it runs.
      const { LocalTokenIssuer } = await import('../ca/token.js');
      const jwt = LocalTokenIssuer.open(f.caDir).createToken({
        namespace: f.namespace, serviceAccount: f.serviceAccount, ttlSeconds, audience: f.audience, ...(pod ? { pod } : {}), ...(node ? { node } : {}),
      });
      process.stdout.write(jwt + '\n');
    });
}
