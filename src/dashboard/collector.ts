/**
 * The dashboard's state, fed one tick at a time with what was read from
 * the mesh itself (no Prometheus): the control plane's /debug/syncz, every
 * sidecar's istio_* samples, and now and then its /certs. Two feeders:
 * `trellis up`'s status poller, which reads all of it anyway (one scrape of
 * each proxy serves the status and the dashboard), and MeshPoller
 * (mesh-poller.ts) for `trellis dashboard`. What a tick did not read stays
 * as it was. model() builds the page's JSON (pure parts: topology.ts,
 * sync.ts).
 */
import type { PodName, ServicePorts } from './topology.js';
import type { SynczEntry } from '../debug/syncz.js';
import type { Sample } from '../local/up/status/prometheus.js';
import { edgeTotals, RateWindow } from '../local/up/status/service-stats.js';
import type { CertRow, DashboardModel } from './model.js';
import { configChanges, proxyRows } from './sync.js';
import { topology } from './topology.js';

export interface ServiceInfo extends ServicePorts {
  clusterIP?: string;
}

/** One reading of the mesh. */
export interface Tick {
  at: number;
  /** The control plane's entries; undefined when it did not answer (the last ones stay). */
  syncz?: readonly SynczEntry[];
  /** Every proxy's istio_* samples; undefined when the proxies were not read this tick (the rates stay). */
  scrapes?: readonly Sample[][];
  /** Certificates read this tick by "pod.namespace" (undefined: none in /certs); pods not in it keep their row. */
  certs?: ReadonlyMap<string, CertRow | undefined>;
  pods: readonly PodName[];
  services: readonly ServiceInfo[];
  problems: readonly string[];
}

export class Collector {
  readonly #source: string;
  readonly #windowMs: number;
  readonly #rates: RateWindow;
  #syncz: readonly SynczEntry[] = [];
  #pods: readonly PodName[] = [];
  #services: readonly ServiceInfo[] = [];
  readonly #certs = new Map<string, CertRow>();
  #problems: readonly string[] = [];

  /** `source` says where the data comes from, for the page ("trellis up run 4f2a1c", "state file …"). */
  constructor(source: string, windowMs: number) {
    this.#source = source;
    this.#windowMs = windowMs;
    this.#rates = new RateWindow(windowMs);
  }

  ingest(t: Tick): void {
    if (t.syncz) this.#syncz = t.syncz;
    this.#pods = t.pods;
    this.#services = t.services;
    this.#problems = t.problems;
    if (t.scrapes) {
      const byVip = new Map(t.services.flatMap((s) => (s.clusterIP ? [[s.clusterIP, s.host] as const] : [])));
      this.#rates.add(t.at, edgeTotals(t.scrapes, (ip) => byVip.get(ip)));
    }
    for (const [pod, row] of t.certs ?? []) {
      if (row) this.#certs.set(pod, row);
      else this.#certs.delete(pod);
    }
  }

  model(now = Date.now()): DashboardModel {
    const known = new Set(this.#pods.map((p) => `${p.name}.${p.namespace}`));
    return {
      generatedAt: new Date(now).toISOString(),
      windowSeconds: this.#windowMs / 1000,
      source: this.#source,
      ...topology(this.#rates.rates(), this.#pods, this.#services),
      proxies: proxyRows(this.#syncz),
      changes: configChanges(this.#syncz),
      certs: [...this.#certs.values()].filter((c) => known.has(c.pod)).sort((a, b) => a.pod.localeCompare(b.pod)),
      problems: [...this.#problems],
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
