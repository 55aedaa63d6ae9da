import type { Command } from 'commander';
import { addressFlag, CONTROL_PLANE_HELP, runDebug, usageExits } from './debug-command.js';

interface Flags {
  controlPlane?: string;
  configDir?: string;
  namespace?: string;
}

export function registerDescribe(program: Command): void {
  const describe = program.command('describe').alias('des').description('describe a resource and the Istio configuration that affects it')
    .addHelpText('after', '\nExample:\n  trellis describe pod reviews-v1');
  usageExits(describe);
  const pod = describe
    .command('pod <pod>')
    .alias('po')
    .description("a pod's services and ports, DestinationRule subsets, VirtualService routes, mTLS mode and AuthorizationPolicies")
    .option('--control-plane <host:port>', CONTROL_PLANE_HELP)
    .option('--config-dir <dir>', 'judge this config directory instead of what the control plane serves')
    .option('-n, --namespace <ns>', "the pod's namespace, when POD does not say (POD.NAMESPACE)")
    .addHelpText('after', `
The config is what the running control plane accepted (its /debug/configz),
or --config-dir read as the control plane would read it: no mesh needs to run.

Exit codes: 0 ok, 1 error (unknown pod, control plane unreachable), 2 usage.

Examples:
  trellis describe pod reviews-v1
  trellis describe pod productpage-v1.default --config-dir examples/demo`)
    .action((name: string, flags: Flags) => runDebug(async () => {
      const controlPlane = addressFlag('--control-plane', flags.controlPlane);
      const [{ loadMeshConfig }, { locateMesh }, { describe: run }, { stdout }] = await Promise.all([
        import('../debug/mesh-config.js'), import('../debug/locate-mesh.js'), import('../debug/describe/describe.js'), import('../debug/output.js'),
      ]);
      const cfg = await loadMeshConfig(flags.configDir, () => locateMesh({ controlPlane }));
      return run(cfg, name, flags.namespace, stdout);
    }));
  usageExits(pod);
}
