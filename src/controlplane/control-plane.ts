import { hostname } from 'node:os';
import { env } from '../env.js';
import { TrellisError } from '../errors.js';
import type { Logger } from '../log.js';
import { logger } from '../log.js';
import type { ConfigSource, ConfigState } from './sources/source.js';
import type { ConfigProblem } from '../config/config-problem.js';
import { buildModel, updateEndpoints, updateRouting } from './registry/build-model.js';
import { classifyChange } from './registry/state-change.js';
import type { MeshModel } from './registry/model.js';
import { createGenerator, deriveGenerator, deriveRoutingGenerator, type TranslateGenerator } from './translate/generator-impl.js';
import { routeBuilders } from './translate/routes/index.js';
import type { RouteBuilders } from './translate/generator-impl.js';
import { prepare } from './snapshot/prepare.js';
import { publishable } from './snapshot/publish.js';
import { AdsServer } from './server/ads-server.js';
import { startDebugServer } from './debug/debug-server.js';
import { Metrics } from './metrics/metrics.js';
import { xdsMetrics, type XdsMetrics } from './metrics/xds-metrics.js';
import { configEvents } from './metrics/config-events.js';
import { parseNode } from '../xds/parse-node.js';
import { Debouncer } from './debounce.js';
import { ConfigAnalysis } from './analyze/config-analysis.js';
import { JwksResolver } from './jwks/jwks-resolver.js';
import { jwksUrisOf } from './jwks/jwks-uris.js';
import type { CertificateAuthority } from '../ca/authority.js';
import type { TokenVerifier } from '../ca/token.js';
import type { WorkloadIdentity } from '../ca/spiffe.js';
import type { PodDirectory } from '../ca/impersonation/node-authorizer.js';
import type { InjectionConfig } from '../inject/config.js';
import type { Pod } from '../config/objects.js';

export interface ControlPlaneOptions {
  source: ConfigSource;
  bind: string;
  xdsPort: number;
  debugPort: number;
  trustDomain: string;
  domainSuffix?: string;
  /** Istio's meshConfig.rootNamespace: its PeerAuthentication and AuthorizationPolicies apply mesh-wide. Default istio-system. */
  rootNamespace?: string;
  /** Istio's meshConfig.enableAutoMtls. Default true. */
  enableAutoMtls?: boolean;
  debounceMs: number;
  /** Upper bound on how long a burst of changes may delay a push (istiod's PILOT_DEBOUNCE_MAX). */
  debounceMaxMs?: number;
  /** The CA and its TLS port (istiod's 15012: CreateCertificate and ADS over TLS). Absent: no CA, no TLS port. */
  ca?: {
    authority: CertificateAuthority; tokens: TokenVerifier; port: number; namespace?: string;
    /** Node proxies' service accounts that may ask for the identities of pods on their node. Absent: none may. */
    trustedNodeAccounts?: readonly WorkloadIdentity[];
  };
  /** The sidecar-injection webhook (istiod's 15017), HTTPS with a certificate from `ca` for `dnsNames`. Absent: off. */
  webhook?: { port: number; config: InjectionConfig; dnsNames: string[] };
  /** The VirtualService translators; the real ones (translate/routes) unless a test injects its own. */
  routeBuilders?: RouteBuilders;
}

/**
 * istiod's job in one object: config source → model → translation → ADS
 * pushes, plus the debug endpoints. Owns every server it starts.
 */
export class ControlPlane {
  readonly metrics = new Metrics();
  readonly #xdsMetrics: XdsMetrics = xdsMetrics(this.metrics);
  readonly #log: Logger = logger('controlplane');
  readonly #opts: ControlPlaneOptions;
  readonly #ads: AdsServer;
  readonly #debouncer: Debouncer;
  /** Findings about references between accepted objects (IST0101), refreshed with every model. */
  readonly #analysis = new ConfigAnalysis(logger('config'));
  #state: ConfigState | undefined;
  /** What the last push published: an endpoint-only change derives the next Generator from it. */
  #published: { state: ConfigState; model: MeshModel; generator: TranslateGenerator; jwksVersion: number } | undefined;
  #pushedRevision = -1;
  #analysisPending: NodeJS.Immediate | undefined;
  /** Bumped whenever fetched JWKS keys change: a push is due although the config did not change. */
  #jwksVersion = 0;
  #pushedJwksVersion = 0;
  readonly #jwks = new JwksResolver({
    log: logger('jwks'),
    onChange: () => {
      this.#jwksVersion++;
      this.#debouncer.trigger();
    },
  });
  #debug: { port: number; close(): Promise<void> } | undefined;
  #tlsPort: { close(): Promise<void> } | undefined;
  #webhook: { close(): Promise<void> } | undefined;

  constructor(opts: ControlPlaneOptions) {
    this.#opts = opts;
    // Until the first config is translated (before listen), nothing is served.
    this.#ads = new AdsServer({ generator: { generate: () => new Map() }, parseNode, metrics: this.metrics });
    this.#debouncer = new Debouncer(opts.debounceMs, opts.debounceMaxMs ?? Math.max(1000, opts.debounceMs * 10), () => this.#push());
  }

  /** Loads the first config, applies it, then starts serving. Resolves with the bound ports. */
  async start(): Promise<{ xdsPort: number; debugPort: number; caPort?: number; webhookPort?: number }> {
    await this.#opts.source.start((state) => {
      for (const e of configEvents(this.#state?.objects ?? new Map(), state.objects)) this.#xdsMetrics.cfgEvents.inc({ type: e.type, event: e.event });
      this.#state = state;
      this.#countProblems();
      this.#xdsMetrics.sourceUp.set(sourceProblem(state) ? 0 : 1);
      // The first state is applied before listening; later ones are debounced.
      if (this.#pushedRevision < 0) this.#push();
      else this.#debouncer.trigger();
    });
    const xdsPort = await this.#ads.listen(this.#opts.bind, this.#opts.xdsPort);
    this.#debug = await startDebugServer({
      host: this.#opts.bind,
      port: this.#opts.debugPort,
      server: this.#ads,
      metrics: this.metrics,
      configProblems: () => this.problems(),
      configObjects: () => this.#state?.objects.values() ?? [],
      controlPlaneId: env.podName ?? hostname(),
      notReady: () => this.#notReady(),
    });
    const caPort = await this.#startTlsPort();
    const webhookPort = await this.#startWebhook();
    return { xdsPort, debugPort: this.#debug.port, ...(caPort === undefined ? {} : { caPort }), ...(webhookPort === undefined ? {} : { webhookPort }) };
  }

  async #startWebhook(): Promise<number | undefined> {
    const wh = this.#opts.webhook;
    if (!wh) return undefined;
    if (!this.#opts.ca) throw new TrellisError('CLI_USAGE', 'the injection webhook needs the CA (--ca-dir) for its serving certificate');
    const { WebhookServer } = await import('../inject/webhook-server.js');
    const server = new WebhookServer({
      ca: this.#opts.ca.authority, bind: this.#opts.bind, port: wh.port, dnsNames: wh.dnsNames, metrics: this.metrics,
      cfg: wh.config, namespaceLabels: (ns) => this.#namespaceLabels(ns),
    });
    this.#webhook = server;
    return server.listen();
  }

  /** A namespace's labels from the accepted config (a Namespace object), or undefined when the config has none for it. */
  #namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    const ns = this.#state?.objects.get(`Namespace//${namespace}`);
    return ns ? { ...(ns.metadata.labels ?? {}) } : undefined;
  }

  async #startTlsPort(): Promise<number | undefined> {
    const ca = this.#opts.ca;
    if (!ca) return undefined;
    // Loaded only with a CA: a control plane without --ca-dir never reads this code.
    const { TlsPort } = await import('../ca/server/tls-port.js');
    const port = new TlsPort({
      ca: ca.authority, tokens: ca.tokens, ads: this.#ads, bind: this.#opts.bind, port: ca.port,
      domainSuffix: this.#opts.domainSuffix ?? 'cluster.local', metrics: this.metrics,
      ...(ca.namespace ? { namespace: ca.namespace } : {}),
      ...(ca.trustedNodeAccounts ? { trustedNodeAccounts: ca.trustedNodeAccounts, pods: await this.#podIndex() } : {}),
    });
    this.#tlsPort = port;
    return port.listen();
  }

  /** The node authorizer's view of the pods: the accepted Pod objects, indexed once per config revision. */
  async #podIndex(): Promise<() => PodDirectory> {
    const { PodIndex } = await import('../ca/impersonation/pod-index.js');
    let built: { revision: number; index: PodDirectory } | undefined;
    return () => {
      const state = this.#state;
      const revision = state?.revision ?? -1;
      if (built?.revision !== revision) {
        const pods = [...(state?.objects.values() ?? [])].filter((o): o is Pod => o.kind === 'Pod');
        built = { revision, index: new PodIndex(pods) };
      }
      return built.index;
    };
  }

  problems(): readonly ConfigProblem[] {
    return this.#analysis.with(this.#state?.problems ?? []);
  }

  #countProblems(): void {
    const n = this.problems().length;
    this.#xdsMetrics.configProblems.set(n);
  }

  /**
   * Unready while the config source is unavailable: in Kubernetes that takes
   * this replica out of the Service, so new proxies go to a replica that can
   * read its config; connected proxies keep their streams and the last good
   * config. Liveness is not touched: a restart could not even start.
   */
  #notReady(): string | undefined {
    if (this.#pushedRevision < 0) return 'no config pushed yet';
    const down = this.#state && sourceProblem(this.#state);
    return down ? `config source unavailable: ${down.reason}` : undefined;
  }

  #push(): void {
    const state = this.#state;
    if (!state || (state.revision === this.#pushedRevision && this.#jwksVersion === this.#pushedJwksVersion)) return;
    const t0 = performance.now();
    try {
      this.#jwks.want(jwksUrisOf(state.objects.values()));
      const jwksVersion = this.#jwksVersion;
      const { model, generator, trigger } = this.#translate(state, jwksVersion);
      const buildMs = performance.now() - t0;
      // Translated and checked before anything is served: a snapshot with a dangling reference is never
      // published, the last good one keeps serving and the revision stays unpushed (the next change retries).
      const prepared = prepare(generator, this.#ads.connections());
      if (!publishable(prepared, state.revision, this.#log, this.#xdsMetrics)) return;
      this.#ads.setGenerator(generator);
      this.#published = { state, model, generator, jwksVersion };
      this.#pushedRevision = state.revision;
      this.#pushedJwksVersion = jwksVersion;
      this.#xdsMetrics.pushTriggers.inc({ type: trigger });
      const stats = this.#ads.push();
      const { translateMs, checkMs } = prepared;
      this.#log.info('pushed', { revision: state.revision, trigger, ms: +(performance.now() - t0).toFixed(1), buildMs: +buildMs.toFixed(1), translateMs, checkMs, ...stats });
      this.#analyzeSoon();
    } catch (err) {
      // A translation bug must not take the control plane down: keep serving the last generator.
      this.#xdsMetrics.internalErrors.inc();
      this.#log.error('push failed; keeping the last config', { revision: state.revision, error: String(err), stack: (err as Error).stack });
    }
  }

  /**
   * Analysis is a report (/debug/config_problems, trellis_config_problems),
   * not part of the config: it runs after the push has been written, on the
   * last published model, once for a burst of pushes — at 1,000 services it
   * costs tens of milliseconds that would otherwise delay every proxy.
   */
  #analyzeSoon(): void {
    if (this.#analysisPending) return;
    this.#analysisPending = setImmediate(() => {
      this.#analysisPending = undefined;
      const p = this.#published;
      if (!p) return;
      this.#analysis.update(p.state.objects.values(), p.model);
      this.#countProblems();
    });
  }

  /**
   * The model and Generator for `state`: derived from the last published
   * ones when only endpoints changed and they reach nothing but EDS
   * (istiod's EDS-only push: "endpoint") or when only VirtualServices
   * changed (routes again, clusters kept), else built in full ("config").
   */
  #translate(state: ConfigState, jwksVersion: number): { model: MeshModel; generator: TranslateGenerator; trigger: 'endpoint' | 'config' } {
    const prev = this.#published;
    if (prev && prev.jwksVersion === jwksVersion) {
      const change = classifyChange(prev.state.objects, state.objects);
      const update = change && 'endpoints' in change ? updateEndpoints(prev.model, state, change.endpoints) : undefined;
      const generator = update && deriveGenerator(prev.generator, update.model, update.changedHosts);
      if (generator) return { model: update.model, generator, trigger: 'endpoint' };
      // Only VirtualServices changed: routes and listeners again, clusters and endpoints kept (still istiod's "config").
      const routing = change && 'routing' in change ? updateRouting(prev.model, state) : undefined;
      const routed = routing && deriveRoutingGenerator(prev.generator, routing);
      if (routed) return { model: routing, generator: routed, trigger: 'config' };
    }
    const model = buildModel(state, {
      trustDomain: this.#opts.trustDomain,
      domainSuffix: this.#opts.domainSuffix ?? 'cluster.local',
      rootNamespace: this.#opts.rootNamespace,
      enableAutoMtls: this.#opts.enableAutoMtls,
    });
    return { model, generator: createGenerator(model, this.#opts.routeBuilders ?? routeBuilders, this.#jwks.snapshot()), trigger: 'config' };
  }

  async stop(): Promise<void> {
    this.#debouncer.cancel();
    if (this.#analysisPending) clearImmediate(this.#analysisPending);
    this.#jwks.close();
    await this.#opts.source.stop();
    await this.#debug?.close();
    await this.#tlsPort?.close();
    await this.#webhook?.close();
    await this.#ads.close();
  }
}

function sourceProblem(state: ConfigState): ConfigProblem | undefined {
  return state.problems.find((p) => p.code === 'CONFIG_SOURCE');
}
