import type { Command } from 'commander';
import { durationSeconds, nonNegative, parsePort, withPortHint } from './flags.js';
import { caSettings, openCaFromFlags, type CaFlags } from './ca-options.js';
import { DEFAULT_SERVICE_CIDR, parseServiceCidr } from '../config/cluster-ip.js';
import { TrellisError } from '../errors.js';
import { DEFAULT_WEBHOOK_CONFIG } from '../kube/names.js';
import type { ConfigSource } from '../controlplane/sources/source.js';
import type { ControlPlaneOptions } from '../controlplane/control-plane.js';
import { DEFAULT_TRUSTED_NODE_ACCOUNTS, parseTrustedNodeAccounts } from '../ca/impersonation/node-authorizer.js';

const collect = (v: string, all: string[] | undefined): string[] => [...(all ?? []), v];

interface Flags extends CaFlags {
  configDir?: string[];
  serviceCidr: string;
  source?: string;
  kubeconfig?: string;
  namespace?: string;
  ca: boolean;
  webhookConfig: string;
  leaderLease: string;
  bind: string;
  xdsPort: string;
  debugPort: string;
  trustDomain: string;
  rootNamespace: string;
  autoMtls: boolean;
  debounceMs: string;
  emptyHoldMs: string;
  /** true: the flag without a value (the default port). */
  webhookPort?: string | true;
  webhookDnsNames?: string;
  injectionConfig?: string;
  caTrustedNodeAccounts: string;
}

export function registerControlplane(program: Command): void {
  program
    .command('controlplane')
    .description('run the control plane (istiod): watch config directories or a Kubernetes cluster, serve xDS')
    .option('--config-dir <dir>', 'directory of Kubernetes/Istio YAML, watched for changes (the directory source); repeat for several (applied in order: an object in two directories is taken from the later)', collect)
    .option('--service-cidr <cidr>', 'directory source: range for the cluster IPs of Services that set none (allocated from a hash of namespace/name, as stable as an API server\'s)', DEFAULT_SERVICE_CIDR)
    .option('--source <directory|kubernetes>', 'where config comes from (default: kubernetes with --kubeconfig, else directory)')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster to watch (implies --source kubernetes; without it: $KUBECONFIG, the pod\'s service account, ~/.kube/config)')
    .option('--namespace <ns>', 'Kubernetes: the control plane\'s namespace — CA Secret, leader Lease (default: POD_NAMESPACE, the service account\'s, the kubeconfig context\'s, istio-system)')
    .option('--no-ca', 'Kubernetes: run no CA (by default the CA\'s root comes from the Secret cacerts or istio-ca-secret)')
    .option('--webhook-config <name>', 'Kubernetes: the MutatingWebhookConfiguration whose caBundle the leader keeps set', DEFAULT_WEBHOOK_CONFIG)
    .option('--leader-lease <duration>', 'Kubernetes: leader Lease duration (renewal deadline 2/3 of it)', '15s')
    .option('--bind <addr>', 'address to listen on', '127.0.0.1')
    .option('--xds-port <port>', 'ADS gRPC port (0: any free port)', '15010')
    .option('--debug-port <port>', 'debug HTTP port: /debug/syncz, /debug/config_dump, /metrics, /ready (0: any)', '15014')
    .option('--trust-domain <domain>', 'SPIFFE trust domain', 'cluster.local')
    .option('--root-namespace <ns>', 'namespace whose PeerAuthentication and AuthorizationPolicies apply mesh-wide (Istio\'s meshConfig.rootNamespace)', 'istio-system')
    .option('--no-auto-mtls', 'no mTLS to sidecars unless a DestinationRule asks for it (Istio\'s meshConfig.enableAutoMtls: false)')
    .option('--debounce-ms <ms>', 'quiet time before a config change is pushed', '100')
    .option('--empty-hold-ms <ms>', 'how long an emptied config directory must stay empty before the empty config is served', '5000')
    .option('--ca-dir <dir>', 'run the CA with this directory (root-cert.pem, ca-key.pem, ...; a new root when empty) and serve the TLS port')
    .option('--ca-port <port>', 'TLS port: CreateCertificate and ADS over TLS (istiod\'s 15012; 0: any)', '15012')
    .option('--cert-ttl <duration>', 'default lifetime of workload certificates', '24h')
    .option('--max-cert-ttl <duration>', 'longest lifetime a workload may request (longer requests are refused)', '2160h')
    .option('--ca-key-type <ec|rsa>', 'key of a root created on first start: ECDSA P-256 or RSA 2048', 'ec')
    .option('--ca-trusted-node-accounts <list>', 'service accounts of node proxies (NAMESPACE/NAME, comma-separated; istiod\'s CA_TRUSTED_NODE_ACCOUNTS) that may get certificates for the service accounts of pods on their own node; "" allows none', DEFAULT_TRUSTED_NODE_ACCOUNTS)
    .option('--webhook-port [port]', 'serve the sidecar-injection webhook (HTTPS, POST /inject) on this port; the flag alone: istiod\'s 15017 (0: any); needs --ca-dir. Off unless given')
    .option('--webhook-dns-names <names>', 'DNS names of the webhook\'s certificate, comma-separated (default: istiod.NS.svc and istiod.NS.svc.DOMAIN of the injection config\'s control-plane namespace)')
    .option('--injection-config <file>', 'injection settings (YAML: image, revision, policy, nativeSidecars, neverInjectSelector, ...; see docs/ARCHITECTURE.md "Sidecar injection")')
    .action(async (f: Flags) => {
      const sourceKind = f.source ?? (f.kubeconfig !== undefined ? 'kubernetes' : 'directory');
      if (sourceKind !== 'directory' && sourceKind !== 'kubernetes') throw new TrellisError('CLI_USAGE', `--source must be directory or kubernetes, not ${sourceKind}`);
      const xdsPort = parsePort('--xds-port', f.xdsPort);
      const debugPort = parsePort('--debug-port', f.debugPort);
      const trustedNodeAccounts = parseTrustedNodeAccounts('--ca-trusted-node-accounts', f.caTrustedNodeAccounts);
      const inputs = sourceKind === 'kubernetes' ? await kubernetesInputs(f) : await directoryInputs(f);
      const { ControlPlane } = await import('../controlplane/control-plane.js');
      const ca = inputs.ca ? { ...inputs.ca, trustedNodeAccounts } : undefined;
      const webhook = await webhookFromFlags(f, ca !== undefined).catch(async (err: unknown) => {
        await inputs.stop();
        throw err;
      });
      const cp = new ControlPlane({
        source: inputs.source,
        bind: f.bind,
        xdsPort,
        debugPort,
        trustDomain: f.trustDomain,
        rootNamespace: f.rootNamespace,
        enableAutoMtls: f.autoMtls,
        debounceMs: nonNegative('--debounce-ms', f.debounceMs),
        ...(ca ? { ca } : {}),
        ...(webhook ? { webhook } : {}),
      });
      const ports = await cp.start().catch(async (err: unknown) => {
        await cp.stop().catch(() => undefined);
        await inputs.stop();
        throw withPortHint(err, { '--xds-port': xdsPort, '--debug-port': debugPort, ...(ca ? { '--ca-port': ca.port } : {}), ...(webhook ? { '--webhook-port': webhook.port } : {}) });
      });
      // One machine-readable line on stdout: where to connect (tests and scripts read it).
      const caAddress = ports.caPort === undefined ? {} : { ca: `${f.bind}:${ports.caPort}` };
      const webhookAddress = ports.webhookPort === undefined ? {} : { webhook: `${f.bind}:${ports.webhookPort}` };
      process.stdout.write(JSON.stringify({ xds: `${f.bind}:${ports.xdsPort}`, debug: `${f.bind}:${ports.debugPort}`, ...caAddress, ...webhookAddress }) + '\n');
      const stop = () => void cp.stop().then(inputs.stop).then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** istiod's webhook port. */
const DEFAULT_WEBHOOK_PORT = 15017;

/** The webhook's settings from the flags, or undefined without --webhook-port. */
async function webhookFromFlags(f: Flags, haveCa: boolean): Promise<ControlPlaneOptions['webhook']> {
  if (f.webhookPort === undefined) return undefined;
  const port = parsePort('--webhook-port', f.webhookPort === true ? String(DEFAULT_WEBHOOK_PORT) : f.webhookPort);
  if (!haveCa) throw new TrellisError('CLI_USAGE', '--webhook-port needs --ca-dir: the webhook\'s certificate is issued by the mesh CA');
  const { loadInjectionConfig } = await import('../inject/load-config.js');
  const config = loadInjectionConfig(f.injectionConfig, { trustDomain: f.trustDomain, controlPlaneNamespace: f.rootNamespace });
  const ns = config.controlPlaneNamespace;
  const dnsNames = f.webhookDnsNames !== undefined
    ? f.webhookDnsNames.split(',').map((s) => s.trim()).filter((s) => s !== '')
    : [`istiod.${ns}.svc`, `istiod.${ns}.svc.${config.clusterDomain}`];
  return { port, config, dnsNames };
}

interface Inputs {
  source: ConfigSource;
  ca: ControlPlaneOptions['ca'];
  stop(): Promise<void>;
}

async function directoryInputs(f: Flags): Promise<Inputs> {
  if (f.configDir === undefined) throw new TrellisError('CLI_USAGE', 'the directory source needs --config-dir DIR (or use --source kubernetes)');
  const { configSource } = await import('../controlplane/sources/config-dirs.js');
  const ca = await openCaFromFlags(f);
  const source = configSource(f.configDir, { emptyHoldMs: nonNegative('--empty-hold-ms', f.emptyHoldMs), serviceCidr: parseServiceCidr(f.serviceCidr) });
  return { source, ca, stop: async () => undefined };
}

/** The cluster as the source; the CA from a Secret (or --ca-dir) with TokenReview, unless --no-ca. */
async function kubernetesInputs(f: Flags): Promise<Inputs> {
  if (f.configDir !== undefined) throw new TrellisError('CLI_USAGE', '--config-dir is for the directory source; --source kubernetes reads the cluster');
  const leaseMs = durationSeconds('--leader-lease', f.leaderLease) * 1000;
  const { startKubeRuntime } = await import('../kube/kube-runtime.js');
  const rt = await startKubeRuntime({
    ...(f.kubeconfig !== undefined ? { kubeconfig: f.kubeconfig } : {}),
    ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
    trustDomain: f.trustDomain,
    ...(f.ca ? { ca: { ...caSettings(f), ...(f.caDir !== undefined ? { dir: f.caDir } : {}) } } : {}),
    webhookConfig: f.webhookConfig,
    leaseDurationMs: leaseMs,
  });
  return { source: rt.source, ca: rt.ca, stop: () => rt.stop() };
}
