/**
 * `trellis kube-inject -f FILE|-`: istioctl kube-inject, offline. Prints the
 * documents with every pod template injected as the webhook would (other
 * kinds unchanged); pods it skips are named on stderr with the reason.
 * Exit codes: 0 printed, 1 refused (annotations Istio rejects, input that is
 * not YAML), 2 usage.
 */
import type { Command } from 'commander';
import { runDebug, usageExits, EXIT_OK } from './debug-command.js';
import { readInput } from './inject-input.js';

interface Flags {
  filename?: string;
  injectionConfig?: string;
  output?: string;
}

export function registerKubeInject(program: Command): void {
  const cmd = program
    .command('kube-inject')
    .description('inject the sidecar into Kubernetes YAML offline (istioctl kube-inject): Pods, Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, ReplicaSets, Lists')
    .option('-f, --filename <file>', 'input YAML (multi-document; - for standard input)')
    .option('-o, --output <file>', 'write the result here instead of standard output')
    .option('--injection-config <file>', 'injection settings (YAML; the control plane\'s --injection-config)')
    .addHelpText('after', `
Namespace labels are not consulted (as istioctl kube-inject): a pod is
injected unless it has hostNetwork, lives in a system namespace or opts out
with sidecar.istio.io/inject: "false".

Exit codes: 0 printed, 1 refused (malformed annotations, input not YAML), 2 usage.

Example:
  trellis kube-inject -f deployment.yaml | kubectl apply -f -`)
    .action((flags: Flags) => runDebug(async () => {
      const text = await readInput(flags.filename);
      const [{ loadInjectionConfig }, { kubeInject }] = await Promise.all([import('../inject/load-config.js'), import('../inject/kube-inject.js')]);
      const r = kubeInject(text, loadInjectionConfig(flags.injectionConfig));
      for (const s of r.skipped) process.stderr.write(`===> ${s}\n`);
      if (flags.output) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(flags.output, r.yaml);
      } else {
        process.stdout.write(r.yaml);
      }
      return EXIT_OK;
    }));
  usageExits(cmd);
}
