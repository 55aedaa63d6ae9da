/**
 * `trellis dashboard`'s reader of the mesh: the control plane's /debug/syncz
 * and each sidecar's admin /stats/prometheus (every tick) and /certs
 * (every CERTS_EVERY ticks) — in its network namespace when it has one
 * (src/debug/http.ts) — fed to the Collector. It runs only while someone
 * looks: touch() (each /api request) starts it, IDLE_MS without one stops
 * it. One tick at a time; what a tick cannot reach is named in problems.
 */
import { errorMessage } from '../errors.js';
import { request } from '../debug/http.js';
import type { MeshLocator, PodRef } from '../debug/locator.js';
import { fetchSyncz } from '../debug/syncz.js';
import { Limiter } from '../local/up/limiter.js';
import { isIstioMetric, parsePrometheus, type Sample } from '../local/up/status/prometheus.js';
import { certRow } from './certs.js';
import type { Collector, ServiceInfo } from './collector.js';
import type { CertRow } from './model.js';

export interface DashboardSource {
  locator: MeshLocator;
  /** The mesh's Services (ports for explain, cluster IPs for calls counted by address); [] when unknown. */
  services(): Promise<readonly ServiceInfo[]>;
}

const IDLE_MS = 60_000;
const CERTS_EVERY = 5;
const SCRAPES_AT_ONCE = 16;
const TIMEOUT_MS = 2000;

export class MeshPoller {
  readonly #source: DashboardSource;
  readonly #collector: Collector;
  readonly #intervalMs: number;
  readonly #limiter = new Limiter(SCRAPES_AT_ONCE);
  #services: readonly ServiceInfo[] = [];
  #tick = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastAsked = 0;
  #closed = false;

  constructor(source: DashboardSource, collector: Collector, intervalMs: number) {
    this.#source = source;
    this.#collector = collector;
    this.#intervalMs = intervalMs;
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
        else this.#schedule(this.#intervalMs);
      });
    }, ms);
  }

  async poll(): Promise<void> {
    const problems: string[] = [];
    const withCerts = this.#tick++ % CERTS_EVERY === 0;
    const cp = this.#source.locator.controlPlane;
    const [syncz, pods, services] = await Promise.all([
      cp === undefined ? Promise.resolve(undefined) : fetchSyncz(cp).catch((err: unknown) => void problems.push(errorMessage(err))),
      this.#source.locator.pods().catch((err: unknown) => (problems.push(errorMessage(err)), [] as PodRef[])),
      this.#source.services().catch(() => this.#services),
    ]);
    this.#services = services;
    const scrapes: Sample[][] = [];
    const certs = new Map<string, CertRow | undefined>();
    await Promise.all(pods.filter((p) => p.admin !== undefined).map((p) => this.#limiter.run(async () => {
      const s = await this.#scrape(p, withCerts ? certs : undefined).catch((err: unknown) => void problems.push(errorMessage(err)));
      if (s) scrapes.push(s);
    })));
    this.#collector.ingest({ at: Date.now(), ...(syncz ? { syncz } : {}), scrapes, ...(withCerts ? { certs } : {}), pods, services, problems });
  }

  async #scrape(p: PodRef, certs: Map<string, CertRow | undefined> | undefined): Promise<Sample[]> {
    const key = `${p.name}.${p.namespace}`;
    const opts = { what: `the proxy of ${key}`, timeoutMs: TIMEOUT_MS, ...(p.netns ? { netns: p.netns } : {}) };
    const m = await request(p.admin!, '/stats/prometheus', opts);
    if (certs) {
      const c = await request(p.admin!, '/certs', opts);
      certs.set(key, c.status === 200 ? certRow(key, c.body) : undefined);
    }
    return m.status === 200 ? parsePrometheus(m.body, isIstioMetric) : [];
  }
}
