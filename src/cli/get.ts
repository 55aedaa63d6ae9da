import type { Command } from 'commander';

interface GetFlags {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
}

export function registerGet(program: Command): void {
  program
    .command('get')
    .description('list the pods or services of the running mesh, with kubectl\'s columns')
    .argument('<kind>', 'pods (po, pod) or services (svc, service)')
    .option('-n, --namespace <ns>', 'namespace to list', 'default')
    .option('-A, --all-namespaces', 'every namespace (adds a NAMESPACE column)')
    .option('-o, --output <format>', 'wide (adds IP and NODE for pods, SELECTOR for services) or json')
    .addHelpText('after', `
Example:
  trellis get pods -A -o wide
  trellis get svc -n shop`)
    .action(async (kind: string, f: GetFlags) => {
      const { getResources } = await import('../local/up/get-resources.js');
      const namespace = f.allNamespaces ? undefined : f.namespace ?? 'default';
      const text = getResources(kind, { namespace, output: f.output });
      // kubectl says so on stderr, and still succeeds.
      if (text === '') process.stderr.write(namespace === undefined ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`);
      process.stdout.write(text);
    });
}
