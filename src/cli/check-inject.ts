/**
 * `trellis check-inject -f pod.yaml [--namespace-labels k=v,...]`: whether
 * each pod (or workload's pod template) in the file would get a sidecar,
 * rule by rule, and which rule decided (istioctl x check-inject's question,
 * answered for every one of Istio's rules). Without --namespace-labels the
 * namespace counts as unlabelled. Exit codes: 0 every pod would be
 * injected, 1 some would not (or are injected already), 2 usage.
 */
import type { Command } from 'commander';
import { TrellisError } from '../errors.js';
import { runDebug, usageExits, EXIT_FINDINGS, EXIT_OK } from './debug-command.js';
import { parseLabels, readInput } from './inject-input.js';

interface Flags {
  filename?: string;
  namespaceLabels?: string;
  namespace?: string;
  injectionConfig?: string;
}

export function registerCheckInject(program: Command): void {
  const cmd = program
    .command('check-inject')
    .description('explain, rule by rule, whether a pod would get a sidecar (istioctl x check-inject)')
    .option('-f, --filename <file>', 'a Pod or workload YAML (- for standard input)')
    .option('--namespace-labels <labels>', 'the namespace\'s labels, e.g. istio-injection=enabled (default: none)')
    .option('-n, --namespace <ns>', 'the namespace, when the YAML does not say (default: default)')
    .option('--injection-config <file>', 'injection settings (YAML; the control plane\'s --injection-config)')
    .addHelpText('after', `
The first table answers as istioctl x check-inject does; the second lists
every rule in the order the injector applies it. * marks the rule that
decided; a verdict in parentheses is what a later rule would have said.

Exit codes: 0 would be injected, 1 would not (or is injected already), 2 usage.

Example:
  trellis check-inject -f pod.yaml --namespace-labels istio-injection=enabled`)
    .action((flags: Flags) => runDebug(async () => {
      const nsLabels = parseLabels('--namespace-labels', flags.namespaceLabels);
      const text = await readInput(flags.filename);
      const [{ loadInjectionConfig }, { podTemplates }, { decide }, { checkInjectReport }, { parseAllDocuments }] = await Promise.all([
        import('../inject/load-config.js'), import('../inject/workloads.js'), import('../inject/decision.js'),
        import('../inject/check-inject-report.js'), import('yaml'),
      ]);
      const cfg = loadInjectionConfig(flags.injectionConfig);
      const pods = parseAllDocuments(text).flatMap((d) => {
        if (d.errors.length > 0) throw new TrellisError('CLI_USAGE', `-f: not YAML: ${d.errors[0]!.message.split('\n')[0]}`);
        return podTemplates(d.toJS());
      });
      if (pods.length === 0) throw new TrellisError('CLI_USAGE', '-f: no Pod or workload with a pod template in the input');
      let all = true;
      for (const p of pods) {
        const namespace = p.namespace || flags.namespace || 'default';
        const d = decide({ metadata: p.metadata, spec: p.spec, namespace, namespaceLabels: nsLabels, mode: 'webhook' }, cfg);
        process.stdout.write(checkInjectReport(p.workload, namespace, nsLabels, cfg.revision, d));
        all &&= d.inject;
      }
      return all ? EXIT_OK : EXIT_FINDINGS;
    }));
  usageExits(cmd);
}
