/**
 * The ports Istio's agent serves beside the proxy, which the injected pod's
 * probes and scrape annotations point at:
 * - the health port (Istio's 15021): GET /healthz/ready — 200 once the proxy
 *   is LIVE (first config applied, listeners bound, first certificate if it
 *   has an agent), 503 before that and while it drains;
 * - the status port (Istio's 15020): the same /healthz/ready, the merged
 *   metrics at /stats/prometheus (the proxy's, then the app's from
 *   ISTIO_PROMETHEUS_ANNOTATIONS), and the app probes the injector rewrote,
 *   /app-health/CONTAINER/readyz|livez|startupz and
 *   /app-lifecycle/CONTAINER/prestopz|poststartz (from ISTIO_KUBE_APP_PROBERS).
 * Both listen on every address: the kubelet and Prometheus reach the pod's
 * IP, and the capture rules leave these ports alone (-d 15090,15021,15020).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrellisError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { AppProber } from './app-probers.js';
import { joinMetrics, scrapeApp, type AppTarget } from './merge-metrics.js';
import { runProbe } from './run-probe.js';

export interface AgentOptions {
  /** The health port; undefined: not served. 0 picks a free port (tests). */
  healthPort?: number;
  /** The status port; undefined: not served. */
  statusPort?: number;
  bind: string;
  /** Where the app listens when a probe names no host: the pod's IP (INSTANCE_IP), else loopback. */
  appAddress: string;
  probers: ReadonlyMap<string, AppProber>;
  appMetrics: readonly AppTarget[];
  log: Logger;
}

export interface AgentDeps {
  ready(): boolean;
  /** The proxy's own metrics in Prometheus text format. */
  proxyMetrics(): string;
}

/** Istio's agent scrapes the app's metrics over loopback (apps often serve metrics on localhost only). */
const APP_METRICS_HOST = '127.0.0.1';

type Route = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void> | void;

const send = (res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
  res.writeHead(status, { 'content-type': type }).end(body);
};

export class AgentServer {
  readonly #opts: AgentOptions;
  readonly #deps: AgentDeps;
  #servers: { name: string; server: http.Server }[] = [];
  /** Counted as Istio's agent counts them (istio_agent_scrapes_total and failures), and rendered with the proxy's metrics. */
  #scrapes = 0;
  #scrapeFailures = 0;

  constructor(opts: AgentOptions, deps: AgentDeps) {
    this.#opts = opts;
    this.#deps = deps;
  }

  /** Binds the ports asked for; resolves with the bound ports. */
  async start(): Promise<{ healthPort?: number; statusPort?: number }> {
    const out: { healthPort?: number; statusPort?: number } = {};
    if (this.#opts.healthPort !== undefined) out.healthPort = await this.#listen('--health-port', this.#opts.healthPort, (req, res, url) => this.#health(req, res, url));
    if (this.#opts.statusPort !== undefined) out.statusPort = await this.#listen('--status-port', this.#opts.statusPort, (req, res, url) => this.#status(req, res, url));
    return out;
  }

  async close(): Promise<void> {
    const servers = this.#servers;
    this.#servers = [];
    await Promise.all(servers.map(({ server }) => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    })));
  }

  #listen(name: string, port: number, route: Route): Promise<number> {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://agent');
      Promise.resolve(route(req, res, url)).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, `agent error: ${String(err)}\n`);
        else res.destroy();
      });
    });
    server.on('clientError', (_e, socket) => socket.destroy());
    this.#servers.push({ name, server });
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new TrellisError('IO', `${name}: cannot listen on ${this.#opts.bind}:${port}`, { cause: err })));
      server.listen(port, this.#opts.bind, () => resolve((server.address() as AddressInfo).port));
    });
  }

  #health(_req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    if (url.pathname !== '/healthz/ready') return send(res, 404, `no such path: ${url.pathname}\n`);
    return this.#ready(res);
  }

  #ready(res: http.ServerResponse): void {
    if (this.#deps.ready()) send(res, 200, '');
    else send(res, 503, 'the proxy is not ready: no config yet, listeners not bound, or draining\n');
  }

  async #status(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    if (path === '/healthz/ready') return this.#ready(res);
    if (path === '/stats/prometheus') return this.#metrics(req, res);
    if (path.startsWith('/app-health/') || path.startsWith('/app-lifecycle/')) {
      const prober = this.#opts.probers.get(path);
      if (!prober) return send(res, 400, `app prober config does not exist for ${path}\n`);
      const answer = await runProbe(prober, { destination: this.#opts.appAddress, headers: req.headers });
      if (answer.status >= 400) this.#opts.log.debug('app probe failed', { path, status: answer.status, body: answer.body.slice(0, 200) });
      return send(res, answer.status, answer.body);
    }
    return send(res, 404, `no such path: ${path}\n`);
  }

  async #metrics(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const apps = await Promise.all(this.#opts.appMetrics.map((t) => {
      this.#scrapes++;
      return scrapeApp(APP_METRICS_HOST, t, req.headers.accept).catch((err: unknown) => {
        this.#scrapeFailures++;
        this.#opts.log.debug('app metrics scrape failed', { error: String(err) });
        return '';
      });
    }));
    const own = `${this.#deps.proxyMetrics()}# TYPE istio_agent_scrapes_total counter\nistio_agent_scrapes_total ${this.#scrapes}\n`
      + `# TYPE istio_agent_scrape_failures_total counter\nistio_agent_scrape_failures_total ${this.#scrapeFailures}\n`;
    send(res, 200, joinMetrics([own, ...apps]), 'text/plain; version=0.0.4; charset=utf-8');
  }
}
