import type { Command } from 'commander';
import { addressFlag, CONTROL_PLANE_HELP, runDebug, usageExits } from './debug-command.js';

interface Flags {
  controlPlane?: string;
  configDir?: string;
  namespace?: string;
}

export function registerTlsCheck(program: Command): void {
  const cmd = program
    .command('tls-check [pod] [host]')
    .description("per destination: the server's mTLS mode (PeerAuthentication), the client's TLS mode (DestinationRule or auto mTLS), and whether they agree")
    .option('--control-plane <host:port>', CONTROL_PLANE_HELP)
    .option('--config-dir <dir>', 'judge this config directory instead of what the control plane serves')
    .option('-n, --namespace <ns>', "the pod's namespace, when POD does not say (POD.NAMESPACE)")
    .addHelpText('after', `
POD is the client: its namespace decides which DestinationRule applies, and a
pod without a sidecar sends plain text. Without POD every service is checked
from a sidecar in its own namespace. HOST limits the check to one service
(reviews, reviews.default or the FQDN).

STATUS is CONFLICT when some endpoint cannot accept what the client sends:
plain text to STRICT, Istio mTLS to DISABLE or to a workload without a sidecar.

Exit codes: 0 no conflict, 1 a CONFLICT (or an error), 2 usage.

Examples:
  trellis tls-check
  trellis tls-check productpage-v1 reviews`)
    .action((pod: string | undefined, host: string | undefined, flags: Flags) => runDebug(async () => {
      const controlPlane = addressFlag('--control-plane', flags.controlPlane);
      const [{ loadMeshConfig }, { locateMesh }, { runTlsCheck }, { stdout, colorEnabled }] = await Promise.all([
        import('../debug/mesh-config.js'), import('../debug/locate-mesh.js'), import('../debug/tls-check/run.js'), import('../debug/output.js'),
      ]);
      const cfg = await loadMeshConfig(flags.configDir, () => locateMesh({ controlPlane }));
      return runTlsCheck(cfg, { ...(pod === undefined ? {} : { pod }), ...(host === undefined ? {} : { host }), ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }), color: colorEnabled() }, stdout);
    }));
  usageExits(cmd);
}
