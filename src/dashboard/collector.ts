/**
 * The dashboard's data, gathered from the mesh itself (no Prometheus): the
 * control plane's /debug/syncz, and each sidecar's admin /stats/prometheus
 * (every tick) and /certs (every CERTS_EVERY ticks) — in its network
 * namespace when it has one (src/debug/http.ts). Polling runs only while
 * someone looks: the first /api request starts it, IDLE_MS without one
 * stops it, so a `trellis up` nobody watches pays nothing. One tick at a
 * time; what a tick cannot reach stays as it was and is named in problems.
 */
import { errorMessage } from '../errors.js';
import { request } from '../debug/http.js';
import type { MeshLocator, PodRef } from '../debug/locator.js';
import { fetchSyncz, type SynczEntry } from '../debug/syncz.js';
import { Limiter } from '../local/up/limiter.js';
import { parsePrometheus, type Sample } from '../local/up/status/prometheus.js';
import { edgeTotals, RateWindow } from '../local/up/status/service-stats.js';
import { certRow } from './certs.js';
import type { CertRow, DashboardModel } from './model.js';
import { configChanges, proxyRows } from './sync.js';
import { topology, type ServicePorts } from './topology.js';

export interface ServiceInfo extends ServicePorts {
  clusterIP?: string;
}

export interface DashboardSource {
  locator: MeshLocator;
  /** The mesh's Services (ports for explain, cluster IPs for calls counted by address); [] when unknown. */
  services(): Promise<readonly ServiceInfo[]>;
}

export interface CollectorOptions {
  windowMs: number;
  intervalMs: number;
}

const IDLE_MS = 60_000;
const CERTS_EVERY = 5;
const SCRAPES_AT_ONCE = 16;
const TIMEOUT_MS = 2000;

const isIstioMetric = (n: string) => n === 'istio_requests_total' || n === 'istio_request_duration_milliseconds_bucket';

export class Collector {
  readonly #source: DashboardSource;
  readonly #o: CollectorOptions;
  readonly #rates: RateWindow;
  readonly #limiter = new Limiter(SCRAPES_AT_ONCE);
  #syncz: SynczEntry[] = [];
  #pods: readonly PodRef[] = [];
  #services: readonly ServiceInfo[] = [];
  readonly #certs = new Map<string, CertRow>();
  #problems: string[] = [];
  #tick = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastAsked = 0;
  #closed = false;

  constructor(source: DashboardSource, o: CollectorOptions) {
    this.#source = source;
    this.#o = o;
    this.#rates = new RateWindow(o.windowMs);
  }

  /** Someone looked: keep polling (or start) for IDLE_MS more. */
  touch(): void {
    this.#lastAsked = Date.now();
    if (this.#timer === undefined && !this.#closed) this.#schedule(0);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      void this.poll().finally(() => {
        if (this.#closed || Date.now() - this.#lastAsked > IDLE_MS) this.#timer = undefined;
        else this.#schedule(this.#o.intervalMs);
      });
    }, ms);
  }

  /** One tick: syncz, then every sidecar's metrics (and certificates every CERTS_EVERY ticks). */
  async poll(): Promise<void> {
    const problems: string[] = [];
    const withCerts = this.#tick++ % CERTS_EVERY === 0;
    const cp = this.#source.locator.controlPlane;
    const [syncz, pods, services] = await Promise.all([
      cp === undefined ? Promise.resolve(undefined) : fetchSyncz(cp).catch((err: unknown) => void problems.push(errorMessage(err))),
      this.#source.locator.pods().catch((err: unknown) => (problems.push(errorMessage(err)), this.#pods)),
      this.#source.services().catch(() => this.#services),
    ]);
    if (syncz) this.#syncz = syncz;
    this.#pods = pods;
    this.#services = services;
    const scrapes: Sample[][] = [];
    await Promise.all(pods.filter((p) => p.admin !== undefined).map((p) => this.#limiter.run(async () => {
      const s = await this.#scrape(p, withCerts).catch((err: unknown) => void problems.push(errorMessage(err)));
      if (s) scrapes.push(s);
    })));
    const byVip = new Map(services.flatMap((s) => (s.clusterIP ? [[s.clusterIP, s.host] as const] : [])));
    this.#rates.add(Date.now(), edgeTotals(scrapes, (ip) => byVip.get(ip)));
    this.#problems = problems;
  }

  async #scrape(p: PodRef, withCerts: boolean): Promise<Sample[]> {
    const key = `${p.name}.${p.namespace}`;
    const opts = { what: `the proxy of ${key}`, timeoutMs: TIMEOUT_MS, ...(p.netns ? { netns: p.netns } : {}) };
    const m = await request(p.admin!, '/stats/prometheus', opts);
    if (withCerts) {
      const c = await request(p.admin!, '/certs', opts);
      const row = c.status === 200 ? certRow(key, c.body) : undefined;
      if (row) this.#certs.set(key, row);
      else this.#certs.delete(key);
    }
    return m.status === 200 ? parsePrometheus(m.body, isIstioMetric) : [];
  }

  model(now = Date.now()): DashboardModel {
    const known = new Set(this.#pods.map((p) => `${p.name}.${p.namespace}`));
    return {
      generatedAt: new Date(now).toISOString(),
      windowSeconds: this.#o.windowMs / 1000,
      source: this.#source.locator.source,
      ...topology(this.#rates.rates(), this.#pods, this.#services),
      proxies: proxyRows(this.#syncz),
      changes: configChanges(this.#syncz),
      certs: [...this.#certs.values()].filter((c) => known.has(c.pod)).sort((a, b) => a.pod.localeCompare(b.pod)),
      problems: this.#problems,
      commands: {
        // No CLI draws the graph: the page's own API prints it ({origin} is the page's address).
        topology: 'curl -s {origin}/api/model',
        proxies: 'trellis proxy-status',
        changes: 'trellis proxy-status POD',
        certs: 'trellis proxy-config secret POD',
      },
    };
  }
}
