import type { Command } from 'commander';
import { setFlagsFromString } from 'node:v8';
import { TrellisError } from '../errors.js';
import { logger } from '../log.js';
import { nonNegative, parsePort, withPortHint } from './flags.js';
import { DEFAULT_ROOT_CERT, DEFAULT_TOKEN_FILE, identitySettings, type IdentityFlags } from './proxy-identity.js';
import { agentSettings, type AgentFlags } from './proxy-agent.js';
import type { UpstreamServer } from '../proxy/agent/dns/upstream.js';

interface ProxyFlags extends IdentityFlags, AgentFlags {
  xdsAddress: string;
  nodeId: string;
  adminPort: string;
  adminAddress: string;
  drainSeconds: string;
  xdsProtocol: string;
  concurrency: string;
  dnsPort: string;
  dnsUpstream?: string;
}

export function registerProxy(program: Command): void {
  program
    .command('proxy')
    .description('run the sidecar proxy: listeners, routes and clusters from xDS (ADS)')
    .requiredOption('--xds-address <host:port>', 'ADS server (plaintext gRPC; mTLS when it is the --ca-address, as istiod\'s 15012)')
    .requiredOption('--node-id <id>', 'xDS node id, e.g. sidecar~10.0.0.5~pod.ns~ns.svc.cluster.local')
    .option('--admin-port <port>', 'admin API port on 127.0.0.1 (0 = any free port)', '15000')
    .option('--admin-address <ip>', 'address the admin API listens on (Envoy\'s admin.address; keep it a loopback address: the admin API can stop the proxy)', '127.0.0.1')
    .option('--drain-seconds <s>', 'how long connections of a removed listener may drain', '5')
    .option('--xds-protocol <delta|sotw>', 'ADS variant', 'delta')
    .option('--concurrency <n>', 'worker threads as Envoy and pilot-agent take it (0 = one per core); trellis proxy serves from one event loop', '1')
    .option('--ca-address <host:port>', 'Istio certificate service (default: the xDS host on 15012)')
    .option('--root-cert <file>', `mesh root certificate(s) the CA is verified against (default ${DEFAULT_ROOT_CERT})`)
    .option('--token-file <file>', `workload token for the CA (default ${DEFAULT_TOKEN_FILE}; none there: no certificate agent)`)
    .option('--trust-domain <domain>', 'SPIFFE trust domain of the workload certificate', 'cluster.local')
    .option('--cert-ttl <duration>', 'requested certificate lifetime, e.g. 24h (default: the CA\'s)')
    .option('--health-port <port>', 'serve /healthz/ready here (Istio\'s 15021; the sidecar\'s readiness probe); off unless given')
    .option('--status-port <port>', 'serve Istio\'s agent port here (15020): /healthz/ready, merged /stats/prometheus, the app probes of ISTIO_KUBE_APP_PROBERS; off unless given')
    .option('--agent-bind <address>', 'address of the health and status ports (the kubelet probes the pod\'s IP)', '0.0.0.0')
    .option('--dns-port <port>', 'with ISTIO_META_DNS_CAPTURE=true: the DNS proxy\'s UDP and TCP port on 127.0.0.1 (Istio\'s 15053; 0 = any free port)', '15053')
    .option('--dns-upstream <servers>', 'with DNS capture: resolvers to forward to instead of /etc/resolv.conf\'s nameservers (IP[:PORT],...)')
    .action(async (flags: ProxyFlags) => {
      const protocol = flags.xdsProtocol;
      if (protocol !== 'delta' && protocol !== 'sotw') throw new TrellisError('CLI_USAGE', `--xds-protocol must be delta or sotw, not ${protocol}`);
      const adminPort = parsePort('--admin-port', flags.adminPort);
      const drainSeconds = nonNegative('--drain-seconds', flags.drainSeconds);
      const concurrency = nonNegative('--concurrency', flags.concurrency);
      const identity = identitySettings(flags, flags.xdsAddress);
      const agent = agentSettings(flags);
      const dns = { port: parsePort('--dns-port', flags.dnsPort), ...(flags.dnsUpstream === undefined ? {} : { upstream: await dnsUpstream(flags.dnsUpstream) }) };
      let stopping = false;
      const stop = async (code: number) => {
        if (stopping) return;
        stopping = true;
        await proxy.stop().catch(() => undefined);
        process.exit(code);
      };
      // V8 pretenures an allocation site whose objects survived a few scavenges (here: during start-up and the
      // first bursts). Per-request objects then land in old space, keep the young objects they point to alive
      // through every scavenge, and scavenges grow from ~1 ms to ~10 ms for good: measured in
      // bench/results/proxy-gc-2026-11-26.md. A proxy's request objects are short-lived by design, so the
      // heuristic only hurts here. Set before any request path code runs; an explicit node flag wins.
      if (!process.execArgv.some((a) => a.endsWith('allocation-site-pretenuring'))) setFlagsFromString('--no-allocation-site-pretenuring');
      // safe_regex is RE2 (linear time) in Envoy; here a backtracking RegExp would stall the event loop (regex-safety.ts).
      const { boundRegexBacktracking } = await import('../proxy/router/regex-safety.js');
      boundRegexBacktracking();
      // Imported here, not at the top: `trellis` loads only the subcommand it runs (start time is a goal).
      const { Proxy } = await import('../proxy/proxy.js');
      const proxy = new Proxy({ xdsAddress: flags.xdsAddress, nodeId: flags.nodeId, adminPort, adminAddress: flags.adminAddress, drainSeconds, protocol, requestedConcurrency: concurrency, dns, onQuit: () => void stop(0), ...('off' in identity ? {} : { identity }), ...(agent ? { agent } : {}) });
      if ('off' in identity) logger('identity').info(identity.off);
      process.once('SIGTERM', () => void stop(0));
      process.once('SIGINT', () => void stop(0));
      await proxy.start().catch(async (err: unknown) => {
        await proxy.stop().catch(() => undefined);
        throw withPortHint(err, { '--admin-port': adminPort, '--dns-port': dns.port, ...(agent?.healthPort === undefined ? {} : { '--health-port': agent.healthPort }), ...(agent?.statusPort === undefined ? {} : { '--status-port': agent.statusPort }) });
      });
      // Tests and supervisors read the ports from these lines.
      process.stdout.write(`trellis proxy: admin listening on ${flags.adminAddress}:${proxy.adminPort}\n`);
      const { healthPort, statusPort } = proxy.agentPorts;
      if (healthPort !== undefined) process.stdout.write(`trellis proxy: health listening on ${flags.agentBind}:${healthPort}\n`);
      if (statusPort !== undefined) process.stdout.write(`trellis proxy: status listening on ${flags.agentBind}:${statusPort}\n`);
      if (proxy.dnsPort !== undefined) process.stdout.write(`trellis proxy: dns listening on 127.0.0.1:${proxy.dnsPort}\n`);
    });
}

/** --dns-upstream: "10.0.0.10,127.0.0.1:5353,[fd00::a]:53" → servers; a bad entry is a usage error. */
async function dnsUpstream(text: string): Promise<UpstreamServer[]> {
  const { parseServer } = await import('../proxy/agent/dns/upstream.js');
  return text.split(',').map((t) => t.trim()).filter((t) => t !== '').map((t) => {
    const s = parseServer(t);
    if (!s) throw new TrellisError('CLI_USAGE', `--dns-upstream: ${JSON.stringify(t)} is not IP[:PORT]`);
    return s;
  });
}
