import type { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { parsePort } from './flags.js';
import { addressFlag, CONTROL_PLANE_HELP, runDebug, usageExits } from './debug-command.js';

interface Flags {
  controlPlane?: string;
  port: string;
}

export function registerDashboard(program: Command): void {
  const cmd = program
    .command('dashboard')
    .description('a web page on 127.0.0.1: the mesh as a graph with live traffic, proxy sync, config pushes and certificates')
    .option('--port <port>', 'the port to serve on (127.0.0.1 only)', '20001')
    .option('--control-plane <host:port>', CONTROL_PLANE_HELP)
    .addHelpText('after', `
Data comes from the mesh itself: the control plane's /debug/syncz and each
sidecar's admin /stats/prometheus and /certs (no Prometheus needed). The page
polls /api/model; each panel names the CLI command that prints the same.
\`trellis up\` starts one too and prints its URL.

Example:
  trellis dashboard --port 20001     # then open http://127.0.0.1:20001/`)
    .action((flags: Flags) => runDebug(async () => {
      const port = parsePort('--port', flags.port);
      const controlPlane = addressFlag('--control-plane', flags.controlPlane);
      const { locateMesh } = await import('../debug/locate-mesh.js');
      const { startDashboard, dashboardStaticDir, serviceInfo } = await import('../dashboard/dashboard.js');
      const { findRunningMesh, readServices } = await import('../local/up/running-mesh.js');
      const locator = await locateMesh(controlPlane === undefined ? {} : { controlPlane });
      // Services (ports, cluster IPs) are known when the mesh is a `trellis up`; elsewhere edges still show.
      const services = async () => (controlPlane === undefined ? readServices(findRunningMesh()).map(serviceInfo) : []);
      const d = await startDashboard({ locator, poll: { services }, port, staticDir: dashboardStaticDir(realpathSync(process.argv[1]!)) });
      process.stdout.write(`dashboard at ${d.url} (${locator.source}); Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await d.close();
      return 0;
    }));
  usageExits(cmd);
}
