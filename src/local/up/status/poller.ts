/**
 * Gathers the live status: proxy sync from the control plane's
 * /debug/syncz, Istio metrics from each sidecar's /stats/prometheus (every
 * tick), certificate expiry from its /certs (every fifth), resident memory
 * of every process of the run (from /proc), and when all proxies first were
 * SYNCED. Requests to a sidecar's admin API are made inside its pod
 * (UpNetwork.http). One tick at a time; a tick that fails leaves the last
 * values in place.
 */
import { kubePodLines } from './pod-lines.js';
import type { Mesh } from '../mesh.js';
import type { UpNetwork } from '../network.js';
import type { ControlPlaneProcess } from '../control-plane-process.js';
import { runProcesses } from '../process-sweep.js';
import { parsePrometheus, type Sample } from './prometheus.js';
import { RateWindow, serviceTotals } from './service-stats.js';
import { syncStates, type ProxySync } from './sync.js';
import { rssBytes } from './rss.js';
import type { StatusModel } from './render.js';

export interface PollerContext {
  mesh: Mesh;
  network: UpNetwork;
  controlPlane: () => ControlPlaneProcess | undefined;
  runId: string;
  dir: string;
  modeLine: string;
  controlPlaneLine: () => string;
  /** Set once the first reconcile is done: until then "all SYNCED" would be vacuous. */
  initialPodsCreated: () => boolean;
  events: () => string[];
  /** The dashboard's URL, once it serves. */
  dashboard?: () => string | undefined;
}

const isIstioMetric = (n: string) => n === 'istio_requests_total' || n === 'istio_request_duration_milliseconds_bucket';

export class StatusPoller {
  readonly #ctx: PollerContext;
  readonly #rates = new RateWindow(10_000);
  #sync = new Map<string, ProxySync>();
  #certs = new Map<string, number>();
  #rss: StatusModel['rss'];
  #allSyncedMs: number | undefined;
  /** When each proxy ("pod.namespace") was first seen SYNCED, in ms since the process started. */
  readonly #firstSynced = new Map<string, number>();
  #tick = 0;
  #busy = false;

  constructor(ctx: PollerContext) {
    this.#ctx = ctx;
  }

  get allSyncedMs(): number | undefined {
    return this.#allSyncedMs;
  }

  sync(podKey: string): ProxySync | undefined {
    const [ns, name] = podKey.split('/');
    return this.#sync.get(`${name}.${ns}`);
  }

  async poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      // Until every proxy was SYNCED only the control plane is asked (often): scraping proxies that are starting
      // would slow exactly what is being measured.
      if (this.#allSyncedMs === undefined) return await this.#pollSync();
      const tick = this.#tick++;
      await Promise.all([this.#pollSync(), this.#pollMetrics(tick % 5 === 0)]);
      if (tick % 2 === 0) this.#pollRss();
    } finally {
      this.#busy = false;
    }
  }

  async #pollSync(): Promise<void> {
    const cp = this.#ctx.controlPlane();
    if (!cp?.running) return;
    const r = await this.#ctx.network.http(undefined, cp.addresses.debug, '/debug/syncz', { timeoutMs: 2000 }).catch(() => undefined);
    if (r?.status !== 200) return;
    try {
      this.#sync = syncStates(JSON.parse(r.body));
    } catch {
      return;
    }
    const now = Date.now() - performance.timeOrigin;
    for (const [proxy, state] of this.#sync) if (state === 'SYNCED' && !this.#firstSynced.has(proxy)) this.#firstSynced.set(proxy, now);
    if (this.#allSyncedMs !== undefined || !this.#ctx.initialPodsCreated()) return;
    // Each proxy's first SYNCED (its whole first config ACKed), the last of them: the mesh has converged once. Later
    // pushes (endpoints as apps get ready) make proxies STALE for a moment, which is operation, not start-up.
    const sidecars = this.#ctx.mesh.pods().filter((p) => p.plan.injection.sidecar && p.phase !== 'Failed');
    const firsts = sidecars.map((p) => this.#firstSynced.get(`${p.plan.name}.${p.plan.namespace}`));
    if (sidecars.length > 0 && firsts.every((t) => t !== undefined)) this.#allSyncedMs = Math.max(...(firsts as number[]));
  }

  async #pollMetrics(withCerts: boolean): Promise<void> {
    const pods = this.#ctx.mesh.pods().filter((p) => p.sidecar && p.address && p.phase === 'Running' && p.sidecar.exited() === undefined);
    const scrapes: Sample[][] = [];
    await Promise.all(pods.map(async (p) => {
      const net = this.#ctx.network;
      const m = await net.http(p.address, p.sidecar!.admin, '/stats/prometheus', { timeoutMs: 2000 }).catch(() => undefined);
      if (m?.status === 200) scrapes.push(parsePrometheus(m.body, isIstioMetric));
      if (!withCerts) return;
      const c = await net.http(p.address, p.sidecar!.admin, '/certs', { timeoutMs: 2000 }).catch(() => undefined);
      const expiry = c?.status === 200 ? workloadCertExpiry(c.body) : undefined;
      if (expiry !== undefined) this.#certs.set(p.key, expiry);
    }));
    const byVip = new Map<string, string>();
    for (const s of this.#ctx.mesh.services()) {
      if (s.spec?.clusterIP && s.spec.clusterIP !== 'None') byVip.set(s.spec.clusterIP, `${s.metadata.name}.${s.metadata.namespace ?? 'default'}.svc.cluster.local`);
    }
    this.#rates.add(Date.now(), serviceTotals(scrapes, (ip) => byVip.get(ip)));
  }

  #pollRss(): void {
    const cpPid = this.#ctx.controlPlane()?.pid;
    const proxyPids = new Set(this.#ctx.mesh.pods().flatMap((p) => (p.sidecar?.pid !== undefined ? [p.sidecar.pid] : [])));
    let cp = 0;
    let proxies = 0;
    let apps = 0;
    for (const pid of runProcesses(this.#ctx.runId)) {
      const rss = rssBytes(pid);
      if (pid === cpPid) cp += rss;
      else if (proxyPids.has(pid)) proxies += rss;
      else apps += rss;
    }
    const self = process.memoryUsage.rss();
    this.#rss = { total: cp + proxies + apps + self, parts: [['control plane', cp], [`${proxyPids.size} proxies`, proxies], ['apps', apps], ['trellis up', self]] };
  }

  model(now = Date.now()): StatusModel {
    const pods = kubePodLines(this.#ctx.mesh.snapshots(), now).map((l) => ({
      ...l,
      sync: l.sidecar ? this.sync(`${l.namespace}/${l.name}`) : undefined,
      certExpiresAt: this.#certs.get(`${l.namespace}/${l.name}`),
    }));
    const readyMs = this.#ctx.mesh.pods().flatMap((p) => (p.sidecar?.readyMs !== undefined ? [p.sidecar.readyMs] : []));
    return {
      now,
      dir: this.#ctx.dir,
      modeLine: this.#ctx.modeLine,
      startedAt: performance.timeOrigin,
      controlPlane: this.#ctx.controlPlaneLine(),
      ...(this.#ctx.dashboard?.() ? { dashboard: this.#ctx.dashboard()! } : {}),
      pods,
      services: this.#rates.rates(),
      ...(this.#allSyncedMs !== undefined ? { allSyncedMs: this.#allSyncedMs } : {}),
      sidecarReadyMs: readyMs,
      ...(this.#rss ? { rss: this.#rss } : {}),
      events: this.#ctx.events(),
    };
  }
}

/** The earliest expiry among the workload certificates (cert_chain) in Envoy's /certs JSON. */
export function workloadCertExpiry(body: string): number | undefined {
  try {
    const j = JSON.parse(body) as { certificates?: { cert_chain?: { expiration_time?: string }[] }[] };
    const times = (j.certificates ?? []).flatMap((c) => (c.cert_chain ?? []).slice(0, 1).map((x) => Date.parse(x.expiration_time ?? '')));
    const valid = times.filter((t) => !Number.isNaN(t));
    return valid.length ? Math.min(...valid) : undefined;
  } catch {
    return undefined;
  }
}
