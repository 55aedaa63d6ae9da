import type { Command } from 'commander';

interface LogsFlags {
  container?: string;
  namespace?: string;
  follow?: boolean;
  tail?: string;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('print the logs of a container of the running mesh (kubectl logs)')
    .argument('<pod>', 'POD, NAMESPACE/POD or deploy/NAME')
    .option('-c, --container <name>', '"proxy" (the sidecar, also "istio-proxy"), "app" (the first app container, the default) or a container name')
    .option('-n, --namespace <ns>', 'the pod\'s namespace (default: wherever the name is unique)')
    .option('-f, --follow', 'keep printing what is written, until Ctrl-C or the pod goes away')
    .option('--tail <lines>', 'only the last N lines (-1: all)', '-1')
    .addHelpText('after', `
Example:
  trellis logs front-5d876956cf-795t2 -c proxy      # the sidecar's access log and messages
  trellis logs -f deploy/backend-v1`)
    .action(async (podRef: string, f: LogsFlags) => {
      const { printLogs } = await import('../local/up/logs-pod.js');
      await printLogs(podRef, { namespace: f.namespace, container: f.container, follow: f.follow === true, tail: Number(f.tail) });
    });
}
