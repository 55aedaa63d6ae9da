import type { Command } from 'commander';

interface ExecFlags {
  container?: string;
  namespace?: string;
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('run a command in a pod of the running mesh (kubectl exec): in its network namespace, as its app\'s user, with its environment')
    .argument('<pod>', 'POD, NAMESPACE/POD or deploy/NAME')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-c, --container <name>', 'whose user and environment (default: the first app container)')
    .option('-n, --namespace <ns>', 'the pod\'s namespace (default: wherever the name is unique)')
    .addHelpText('after', `
Example:
  trellis exec tester-6db67796b5-2829m -- curl -s http://front.shop/
  trellis exec -n shop deploy/tester -- sh -c 'curl -s $FRONT_SERVICE_HOST:$FRONT_SERVICE_PORT'
The exit code is the command's.`)
    .action(async (podRef: string, command: string[], f: ExecFlags) => {
      const { execInPod } = await import('../local/up/exec-pod.js');
      const code = await execInPod(podRef, command, f.namespace, f.container);
      process.exit(code);
    });
}
