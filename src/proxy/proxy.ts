/**
 * `trellis proxy`: wires the stages together. xDS updates flow from the ADS
 * client into the cluster manager (CDS/EDS), the route tables (RDS) and the
 * listener manager (LDS); the admin API reads them all.
 */
import type http from 'node:http';
import { logger } from '../log.js';
import { adminPort, prometheusText, startAdmin, type AdminDeps } from './admin/admin-server.js';
import { AgentServer, type AgentOptions } from './agent/agent-server.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import { ClusterDiscovery } from './upstream/cluster-discovery.js';
import { RouterFilter } from './router/router-filter.js';
import type { RouteTable } from './router/route-table.js';
import { ListenerManager } from './listener/listener-manager.js';
import type { ListenerPlan } from './listener/listener-plan.js';
import { ProxyStats } from './telemetry/stats.js';
import { TapHub } from './tap/tap-hub.js';
import { XdsClient, type XdsProtocol } from './xds-client/ads-client.js';
import { Backoff } from './xds-client/backoff.js';
import { buildNode } from './xds-client/node-info.js';
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import { parseNode } from '../xds/parse-node.js';
import { NAME_TABLE, clusterType, endpointType, listenerType, nameTableType, proxyTypes, routeType, secretType } from './xds-client/proxy-types.js';
import { handler, type AppliedResource } from './xds-client/resource-type.js';
import { captureUnavailable } from './listener/original-dst.js';
import { SecretStore } from './tls/secret-store.js';
import { CertAgent, type CertAgentOptions } from './identity/cert-agent.js';
import { readFileSync } from 'node:fs';
import { DnsServer, dnsMetricsText } from './agent/dns/dns-server.js';
import { Upstream, type UpstreamServer } from './agent/dns/upstream.js';
import { parseResolvConf } from '../config/resolv-conf.js';
import type { ConnectionOptions } from 'node:tls';

const log = logger('proxy');

export interface ProxyOptions {
  xdsAddress: string;
  nodeId: string;
  /** 0 picks a free port (tests). */
  adminPort: number;
  adminAddress?: string;
  drainSeconds: number;
  protocol: XdsProtocol;
  environ?: NodeJS.ProcessEnv;
  /** Reconnect back-off base and cap in ms. */
  backoff?: { baseMs: number; maxMs: number };
  /** Called when /quitquitquit was requested. */
  onQuit?: () => void;
  /** --concurrency as given (Istio passes 2); the proxy runs one event loop and says so. */
  requestedConcurrency?: number;
  /** The certificate agent's settings; absent, no agent (secrets only over ADS, or none). */
  identity?: Omit<CertAgentOptions, 'secrets'>;
  /** Istio's agent ports (health 15021, status 15020); absent, neither is served. */
  agent?: Omit<AgentOptions, 'log'>;
  /** The DNS proxy's settings, used when the node metadata has DNS_CAPTURE=true (ISTIO_META_DNS_CAPTURE). */
  dns?: DnsOptions;
}

export interface DnsOptions {
  /** Istio's 15053; 0 picks a free port (tests). */
  port: number;
  /** Default 127.0.0.1, where the capture rules redirect to. */
  address?: string;
  /** Default /etc/resolv.conf: its nameservers are the upstream, its search list is the pod's. */
  resolvConfFile?: string;
  /** Instead of resolv.conf's nameservers (and at any port). */
  upstream?: UpstreamServer[];
}

/** As Envoy's initial_fetch_timeout: readiness waits this long for the first workload certificate, then no longer. */
const FIRST_CERTIFICATE_WAIT_MS = 15_000;

export class Proxy {
  readonly #opts: ProxyOptions;
  /** SDS secrets, shared by listeners (TLS termination) and clusters (upstream TLS). */
  readonly secrets = new SecretStore();
  // Internal listeners are reached through the listener manager, made in the constructor (read at dial time).
  readonly clusters = new ClusterManager(this.secrets, (name, h) => this.listeners.connectInternal(name, h));
  readonly routes = new Map<string, RouteTable>();
  readonly stats: ProxyStats;
  /** On-demand CDS (envoy.filters.http.on_demand's odcds): clusters subscribed when a request needs them. */
  readonly discovery: ClusterDiscovery;
  /** The admin API's /tap tappers, which the request path feeds. */
  readonly tap: TapHub;
  readonly listeners: ListenerManager;
  readonly xds: XdsClient;
  /** istio-agent's part: the workload certificate and the trust bundle as the secrets default and ROOTCA. */
  readonly agent: CertAgent | undefined;
  #admin: http.Server | undefined;
  /** The Node announced on ADS (also the bootstrap's node in /config_dump). */
  readonly #node: Node;
  /** Serialises listener updates: a bind must finish before the next LDS applies. */
  #ldsChain: Promise<void> = Promise.resolve();
  /** Listener updates queued or binding: until they are done the proxy is not LIVE (apps would find nothing listening). */
  #ldsPending = 0;
  #live = false;
  #stopping = false;
  #agent: AgentServer | undefined;
  #agentPorts: { healthPort?: number; statusPort?: number } = {};
  /** istio-agent's DNS proxy, with DNS capture on. */
  readonly dns: DnsServer | undefined;
  #dnsPort: number | undefined;

  constructor(opts: ProxyOptions) {
    this.#opts = opts;
    const node = buildNode(opts.nodeId, opts.environ);
    this.#node = node;
    // The control plane's own check: an id it would refuse on every reconnect is refused here, at start, with its message.
    parseNode(node);
    const md = node.metadata ?? {};
    const str = (k: string) => (typeof md[k] === 'string' ? (md[k] as string) : 'unknown');
    const labels = typeof md.LABELS === 'object' && md.LABELS && !Array.isArray(md.LABELS) ? (md.LABELS as Record<string, unknown>) : {};
    // Istio node ids are TYPE~IP~POD.NS~NS.svc.DOMAIN: the namespace is there when metadata lacks it.
    const idNamespace = opts.nodeId.split('~')[3]?.split('.')[0];
    const namespace = typeof md.NAMESPACE === 'string' ? md.NAMESPACE : idNamespace || 'unknown';
    this.stats = new ProxyStats({ workload: str('WORKLOAD_NAME'), namespace, app: typeof labels.app === 'string' ? labels.app : 'unknown' });
    this.tap = new TapHub(this.stats);
    // The ADS client is made below; the discovery reaches it only when a request asks for a cluster.
    this.discovery = new ClusterDiscovery({
      subscribeOnDemand: (type, names) => this.xds.subscribeOnDemand(type, names),
      watch: (type, name, w) => this.xds.watch(type, name, w),
    }, this.clusters, clusterType, this.stats);
    const http = { router: new RouterFilter(this.clusters), onDemand: this.discovery, routes: this.routes, stats: this.stats, tap: this.tap };
    this.listeners = new ListenerManager(http, { clusters: this.clusters, stats: this.stats }, opts.drainSeconds * 1000, this.secrets);
    this.agent = opts.identity ? new CertAgent({ ...opts.identity, secrets: this.secrets }) : undefined;
    // As istio-agent: ISTIO_META_DNS_CAPTURE=true turns the DNS proxy on and subscribes to the name table.
    this.dns = md.DNS_CAPTURE === 'true' ? dnsServer(opts.dns, namespace, opts.nodeId) : undefined;
    const dns = this.dns;
    this.xds = new XdsClient({
      address: opts.xdsAddress,
      tls: this.#xdsOverMtls() ? () => this.#xdsTls() : undefined,
      node,
      protocol: opts.protocol,
      types: dns ? [...proxyTypes, nameTableType] : proxyTypes,
      // One typed handler per resource type, as grpc-js-xds registers them.
      handlers: [
        handler(clusterType, (r) => this.clusters.applyClusters(values(r))),
        handler(endpointType, (r) => this.clusters.applyEndpoints(new Map([...r].map(([k, e]) => [k, e.value])))),
        handler(secretType, (r) => this.secrets.update(values(r))),
        handler(listenerType, (r) => this.#applyListeners(values(r))),
        handler(routeType, (r) => {
          this.routes.clear();
          for (const [k, e] of r) this.routes.set(k, e.value);
        }),
        ...(dns ? [handler(nameTableType, (r) => dns.setTable(r.get(NAME_TABLE)?.value ?? {}))] : []),
      ],
      backoff: opts.backoff ? new Backoff(opts.backoff.baseMs, opts.backoff.maxMs) : undefined,
    });
  }

  /** Listeners bind one update at a time; resolves with the bind failures (a NACK, as in Envoy). */
  #applyListeners(plans: ListenerPlan[]): Promise<string | undefined> {
    this.#ldsPending++;
    const applied = this.#ldsChain.then(() => this.listeners.apply(plans)).finally(() => void this.#ldsPending--);
    this.#ldsChain = applied.then(() => undefined, () => undefined);
    return applied.then((errors) => (errors.length > 0 ? errors.join('; ') : undefined));
  }

  /**
   * ADS goes over mTLS when it is served where the CA is (istiod's 15012): the
   * workload certificate authenticates the proxy. Elsewhere (15010) it stays
   * plaintext, for local use, as in Istio.
   */
  #xdsOverMtls(): boolean {
    return this.#opts.identity !== undefined && this.#opts.identity.caAddress === this.#opts.xdsAddress;
  }

  #xdsTls(): ConnectionOptions {
    const c = this.agent?.current;
    if (c) return { ca: c.rootsPem, cert: c.chainPem, key: c.keyPem, ALPNProtocols: ['h2'] };
    // No certificate yet: the server refuses the stream, and the client backs off and retries.
    return { ca: readRootsOrEmpty(this.#opts.identity!.rootCertFile), ALPNProtocols: ['h2'] };
  }

  /** Binds the admin API and starts the ADS stream. Resolves once the admin API listens. */
  async start(): Promise<void> {
    const startedAt = Date.now();
    const certificateSettled = () => !this.agent || this.agent.current !== undefined || Date.now() - startedAt > FIRST_CERTIFICATE_WAIT_MS;
    const deps: AdminDeps = {
      xds: this.xds,
      // Latched as Envoy's server state is: later listener updates do not make a live proxy unready.
      // DNS clusters warming at start hold readiness, as Envoy's initialisation waits for cluster warming.
      live: () => (this.#live ||= this.xds.initialFetchDone() && this.#ldsPending === 0 && this.clusters.warming === 0 && certificateSettled()),
      clusters: this.clusters,
      listeners: this.listeners,
      stats: this.stats,
      nodeId: this.#opts.nodeId,
      startedAt: new Date(),
      concurrency: 1,
      secrets: this.secrets,
      tap: this.tap,
      bootstrap: () => ({ node: this.#node, xdsAddress: this.#opts.xdsAddress, protocol: this.#opts.protocol, adminAddress: this.#opts.adminAddress ?? '127.0.0.1', adminPort: this.adminPort }),
      quit: () => this.#opts.onQuit?.(),
    };
    this.#admin = await startAdmin(this.#opts.adminPort, this.#opts.adminAddress ?? '127.0.0.1', deps);
    if (this.#opts.agent) {
      // A draining proxy is not ready: the kubelet takes the pod out of its Services before connections are cut.
      this.#agent = new AgentServer({ ...this.#opts.agent, log: logger('agent') }, { ready: () => deps.live() && !this.#stopping, proxyMetrics: () => prometheusText(deps) + (this.dns ? dnsMetricsText(this.dns.stats) : '') });
      this.#agentPorts = await this.#agent.start();
      log.info('agent ports listening', { ...this.#agentPorts });
    }
    log.info('admin listening', { port: this.adminPort });
    if (this.dns) {
      this.#dnsPort = await this.dns.start();
      log.info('DNS proxy listening', { address: this.#opts.dns?.address ?? DNS_ADDRESS, port: this.#dnsPort });
    }
    const wanted = this.#opts.requestedConcurrency ?? 1;
    if (wanted !== 1) log.warn('--concurrency is not 1: this proxy serves from one event loop (scale with replicas)', { requested: wanted, effective: 1 });
    if (captureUnavailable !== undefined) log.error('transparent capture unavailable: listeners with use_original_dst will be refused', { reason: captureUnavailable });
    this.agent?.start();
    // ADS over mTLS needs the certificate first; waiting here spares the control plane a refused stream per start.
    if (this.agent && this.#xdsOverMtls()) await this.agent.waitReady(FIRST_CERTIFICATE_WAIT_MS);
    this.xds.start();
  }

  get adminPort(): number {
    return this.#admin ? adminPort(this.#admin) : 0;
  }

  /** The DNS proxy's port (UDP and TCP), when DNS capture is on. */
  get dnsPort(): number | undefined {
    return this.#dnsPort;
  }

  /** The bound health and status ports (only those asked for). */
  get agentPorts(): { healthPort?: number; statusPort?: number } {
    return { ...this.#agentPorts };
  }

  /** Stops accepting, lets requests drain for up to drainSeconds, then closes everything. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.agent?.stop();
    this.xds.close();
    await this.listeners.drainAndClose();
    await this.listeners.close();
    await this.clusters.close();
    await this.#agent?.close();
    await this.dns?.close();
    this.tap.closeAll();
    await new Promise<void>((r) => (this.#admin ? this.#admin.close(() => r()) : r()));
    this.#admin?.closeAllConnections();
  }
}

const DNS_ADDRESS = '127.0.0.1';
const DNS_PORT = 15053;

/**
 * The DNS proxy of a proxy in `namespace`: the pod's resolvers and search
 * list from resolv.conf (read once, at start: capture does not change the
 * file, only where port 53 goes), its cluster domain from the node id
 * (TYPE~IP~POD.NS~NS.svc.DOMAIN).
 */
function dnsServer(o: DnsOptions | undefined, namespace: string, nodeId: string): DnsServer {
  let text = '';
  try {
    text = readFileSync(o?.resolvConfFile ?? '/etc/resolv.conf', 'utf8');
  } catch (err) {
    log.warn('cannot read resolv.conf: names outside the mesh will not resolve', { error: (err as Error).message });
  }
  const conf = parseResolvConf(text);
  const upstream = o?.upstream ?? conf.nameservers.map((address) => ({ address, port: 53 }));
  const domainSuffix = /^[^.]+\.svc\.(.+)$/.exec(nodeId.split('~')[3] ?? '')?.[1] ?? 'cluster.local';
  return new DnsServer({
    address: o?.address ?? DNS_ADDRESS,
    port: o?.port ?? DNS_PORT,
    upstream: new Upstream(upstream),
    proxy: { namespace, domainSuffix, search: conf.search },
    log: logger('dns'),
  });
}

function readRootsOrEmpty(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The values of a type's current resources. */
function values<T>(resources: ReadonlyMap<string, AppliedResource<T>>): T[] {
  return [...resources.values()].map((r) => r.value);
}
