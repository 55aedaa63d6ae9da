/**
 * `trellis ztunnel`: the node proxy of ambient mode (ztunnel's role), one per
 * node. Flags follow ztunnel's settings; the CA defaults to the xDS host on
 * 15012 and the token to the node proxy's own (istio-system/ztunnel).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { TrellisError } from '../errors.js';
import { env } from '../env.js';
import { durationSeconds, parsePort, withPortHint } from './flags.js';
import { DEFAULT_ROOT_CERT, DEFAULT_TOKEN_FILE } from './proxy-identity.js';

interface ZtunnelFlags {
  nodeName: string;
  xdsAddress: string;
  caAddress?: string;
  rootCert: string;
  tokenFile: string;
  trustDomain: string;
  clusterId: string;
  zdsSocket: string;
  adminPort: string;
  readinessPort: string;
  sharedNamespace?: boolean;
  certTtl?: string;
}

const CA_PORT = 15012;

export function registerZtunnel(program: Command): void {
  program
    .command('ztunnel')
    .description('run the node proxy of ambient mode (ztunnel): HBONE mTLS and L4 policy for the ambient pods of one node, configured by the workload API (Delta xDS)')
    .requiredOption('--node-name <name>', 'the node this proxy serves (ztunnel\'s NODE_NAME)')
    .requiredOption('--xds-address <host:port>', 'control plane (Delta ADS; over mTLS with the proxy\'s own certificate when it is the --ca-address, as istiod\'s 15012)')
    .option('--ca-address <host:port>', 'Istio certificate service (default: the xDS host on 15012)')
    .option('--root-cert <file>', 'mesh root certificate(s) the CA is verified against', DEFAULT_ROOT_CERT)
    .option('--token-file <file>', 'the node proxy\'s own token (service account istio-system/ztunnel)', DEFAULT_TOKEN_FILE)
    .option('--trust-domain <domain>', 'SPIFFE trust domain', 'cluster.local')
    .option('--cluster-id <id>', 'cluster id announced to the control plane', 'Kubernetes')
    .option('--zds-socket <path>', 'the ZDS socket the node agent hands pods over on', '/var/run/ztunnel/ztunnel.sock')
    .option('--admin-port <port>', 'admin API on 127.0.0.1 (0 = any free port)', '15000')
    .option('--readiness-port <port>', 'serve /healthz/ready on 0.0.0.0 here (0 = off)', '15021')
    .option('--cert-ttl <duration>', 'lifetime asked of the CA for the certificates (the pods\' and its own), as `trellis proxy --cert-ttl` (default: the CA\'s)')
    .option('--shared-namespace', 'serve the HBONE pods of this node (Workload.node = --node-name) in this process\'s own network namespace, each on its own IP, instead of taking pods from ZDS')
    .action(async (f: ZtunnelFlags) => {
      const adminPort = parsePort('--admin-port', f.adminPort);
      const readinessPort = parsePort('--readiness-port', f.readinessPort);
      const ttlSeconds = f.certTtl === undefined ? 0 : durationSeconds('--cert-ttl', f.certTtl);
      if (!/^.+:\d+$/.test(f.xdsAddress)) throw new TrellisError('CLI_USAGE', `--xds-address: not HOST:PORT: ${f.xdsAddress}`);
      for (const [flag, file] of [['--token-file', f.tokenFile], ['--root-cert', f.rootCert]] as const) {
        if (!existsSync(file)) throw new TrellisError('CLI_USAGE', `${flag}: ${file} does not exist`);
      }
      const { NodeProxy } = await import('../ztunnel/node-proxy.js');
      const { SharedNamespaceNetwork } = await import('../ztunnel/inpod/shared-namespace.js');
      const { NetnsNetwork } = await import('../ztunnel/inpod/netns-network.js');
      const { closeFd } = await import('../native/netns-socket.js');
      const host = f.xdsAddress.slice(0, f.xdsAddress.lastIndexOf(':'));
      let stopping = false;
      const stop = async (code: number) => {
        if (stopping) return;
        stopping = true;
        await proxy.stop().catch(() => undefined);
        process.exit(code);
      };
      const proxy = new NodeProxy({
        nodeName: f.nodeName,
        xdsAddress: f.xdsAddress,
        identity: { caAddress: f.caAddress ?? `${host}:${CA_PORT}`, rootCertFile: f.rootCert, tokenFile: f.tokenFile, trustDomain: f.trustDomain, ttlSeconds },
        clusterId: f.clusterId,
        adminPort,
        readinessPort,
        ...(f.sharedNamespace
          ? { network: (index) => new SharedNamespaceNetwork((p) => index.workloadOf(p)?.addresses[0]), pods: 'from-workloads' as const }
          : { network: () => new NetnsNetwork(), pods: { zdsSocket: f.zdsSocket }, closeFd }),
        self: { podName: env.podName ?? `ztunnel-${f.nodeName}`, podNamespace: env.podNamespace ?? 'istio-system', ip: env.instanceIp ?? '127.0.0.1' },
        onQuit: () => void stop(0),
      });
      process.once('SIGTERM', () => void stop(0));
      process.once('SIGINT', () => void stop(0));
      const ports = await proxy.start().catch(async (err: unknown) => {
        await proxy.stop().catch(() => undefined);
        throw withPortHint(err, { '--admin-port': adminPort, '--readiness-port': readinessPort });
      });
      // Tests and supervisors read the ports from these lines.
      process.stdout.write(`trellis ztunnel: admin listening on 127.0.0.1:${ports.adminPort}\n`);
      if (ports.readinessPort !== undefined) process.stdout.write(`trellis ztunnel: readiness listening on 0.0.0.0:${ports.readinessPort}\n`);
    });
}
