/**
 * Gathers the live status: proxy sync from the control plane's
 * /debug/syncz, Istio metrics from each sidecar's /stats/prometheus (every
 * tick), certificate expiry from its /certs (every fifth), resident memory
 * of every process of the run (from /proc: the control plane, the sidecars,
 * the node proxy, the apps, each its own part), and when all proxies — the
 * sidecars and, with ambient pods, the node proxy — first were SYNCED. Requests to a sidecar's admin API are made inside its pod
 * (UpNetwork.http). One tick at a time; a tick that fails leaves the last
 * values in place. What a tick read also feeds the dashboard's collector
 * (src/dashboard/): one scrape of each proxy serves both.
 */
import { kubePodLines } from './pod-lines.js';
import type { Mesh } from '../mesh.js';
import type { UpNetwork } from '../network.js';
import type { ControlPlaneProcess } from '../control-plane-process.js';
import { runProcesses } from '../process-sweep.js';
import { isIstioMetric, parsePrometheus, type Sample } from './prometheus.js';
import type { SynczEntry } from '../../../debug/syncz.js';
import { certRow } from '../../../dashboard/certs.js';
import { serviceInfo, type Dashboard } from '../../../dashboard/dashboard.js';
import type { CertRow } from '../../../dashboard/model.js';
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
  /** The node proxy when one runs: its pid and its name as the control plane knows it ("ztunnel-NODE.istio-system"). */
  nodeProxy?: () => { pid: number; proxy: string } | undefined;
  /** The dashboard, once it serves: its URL goes in the status, each tick's readings to its collector. */
  dashboard?: () => Dashboard | undefined;
}

export class StatusPoller {
  readonly #ctx: PollerContext;
  readonly #rates = new RateWindow(10_000);
  #sync = new Map<string, ProxySync>();
  #syncz: SynczEntry[] | undefined;
  #certs = new Map<string, CertRow>();
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
      this.#syncz = undefined;
      if (this.#allSyncedMs === undefined) {
        await this.#pollSync();
        return this.#feed(undefined, undefined);
      }
      const tick = this.#tick++;
      const [, { scrapes, certs }] = await Promise.all([this.#pollSync(), this.#pollMetrics(tick % 5 === 0)]);
      this.#feed(scrapes, certs);
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
      const entries = JSON.parse(r.body) as unknown;
      this.#sync = syncStates(entries);
      if (Array.isArray(entries)) this.#syncz = entries as SynczEntry[];
    } catch {
      return;
    }
    const now = Date.now() - performance.timeOrigin;
    for (const [proxy, state] of this.#sync) if (state === 'SYNCED' && !this.#firstSynced.has(proxy)) this.#firstSynced.set(proxy, now);
    if (this.#allSyncedMs !== undefined || !this.#ctx.initialPodsCreated()) return;
    // Each proxy's first SYNCED (its whole first config ACKed), the last of them: the mesh has converged once. Later
    // pushes (endpoints as apps get ready) make proxies STALE for a moment, which is operation, not start-up.
    const pods = this.#ctx.mesh.pods().filter((p) => p.phase !== 'Failed');
    const proxies = pods.filter((p) => p.plan.injection.sidecar).map((p) => `${p.plan.name}.${p.plan.namespace}`);
    const nodeProxy = this.#ctx.nodeProxy?.();
    // Ambient pods have no proxy of their own: theirs is the node proxy, which must have its config too (loopback
    // mode runs none: nothing to wait for).
    if (nodeProxy && pods.some((p) => p.plan.ambient)) proxies.push(nodeProxy.proxy);
    const firsts = proxies.map((p) => this.#firstSynced.get(p));
    if (proxies.length > 0 && firsts.every((t) => t !== undefined)) this.#allSyncedMs = Math.max(...(firsts as number[]));
  }

  async #pollMetrics(withCerts: boolean): Promise<{ scrapes: Sample[][]; certs: Map<string, CertRow | undefined> | undefined }> {
    const pods = this.#ctx.mesh.pods().filter((p) => p.sidecar && p.address && p.phase === 'Running' && p.sidecar.exited() === undefined);
    const scrapes: Sample[][] = [];
    const certs = withCerts ? new Map<string, CertRow | undefined>() : undefined;
    await Promise.all(pods.map(async (p) => {
      const net = this.#ctx.network;
      const m = await net.http(p.address, p.sidecar!.admin, '/stats/prometheus', { timeoutMs: 2000 }).catch(() => undefined);
      if (m?.status === 200) scrapes.push(parsePrometheus(m.body, isIstioMetric));
      if (!certs) return;
      const c = await net.http(p.address, p.sidecar!.admin, '/certs', { timeoutMs: 2000 }).catch(() => undefined);
      const row = c?.status === 200 ? certRow(`${p.plan.name}.${p.plan.namespace}`, c.body) : undefined;
      certs.set(`${p.plan.name}.${p.plan.namespace}`, row);
      if (row) this.#certs.set(p.key, row);
    }));
    const byVip = new Map<string, string>();
    for (const s of this.#ctx.mesh.services()) {
      if (s.spec?.clusterIP && s.spec.clusterIP !== 'None') byVip.set(s.spec.clusterIP, `${s.metadata.name}.${s.metadata.namespace ?? 'default'}.svc.cluster.local`);
    }
    this.#rates.add(Date.now(), serviceTotals(scrapes, (ip) => byVip.get(ip)));
    return { scrapes, certs };
  }

  /** This tick's readings to the dashboard's collector (what was not read stays there as it was). */
  #feed(scrapes: Sample[][] | undefined, certs: Map<string, CertRow | undefined> | undefined): void {
    const collector = this.#ctx.dashboard?.()?.collector;
    if (!collector) return;
    const pods = this.#ctx.mesh.pods().map((p) => ({ name: p.plan.name, namespace: p.plan.namespace }));
    const services = this.#ctx.mesh.services().map(serviceInfo);
    collector.ingest({ at: Date.now(), ...(this.#syncz ? { syncz: this.#syncz } : {}), ...(scrapes ? { scrapes } : {}), ...(certs ? { certs } : {}), pods, services, problems: [] });
  }

  #pollRss(): void {
    const cpPid = this.#ctx.controlPlane()?.pid;
    const pods = this.#ctx.mesh.pods();
    const sidecarPids = new Set(pods.flatMap((p) => (p.sidecar?.pid !== undefined ? [p.sidecar.pid] : [])));
    const nodeProxyPid = this.#ctx.nodeProxy?.()?.pid;
    let cp = 0;
    let sidecars = 0;
    let nodeProxy = 0;
    let apps = 0;
    for (const pid of runProcesses(this.#ctx.runId)) {
      const rss = rssBytes(pid);
      if (pid === cpPid) cp += rss;
      else if (sidecarPids.has(pid)) sidecars += rss;
      else if (pid === nodeProxyPid) nodeProxy += rss;
      else apps += rss;
    }
    const self = process.memoryUsage.rss();
    const dataPlane = {
      sidecars: sidecarPids.size,
      sidecarBytes: sidecars,
      ambientPods: pods.filter((p) => p.plan.ambient && p.phase === 'Running').length,
      ...(nodeProxyPid !== undefined ? { nodeProxyBytes: nodeProxy } : {}),
    };
    const parts: [string, number][] = [['control plane', cp], [`${sidecarPids.size} sidecars`, sidecars], ...(nodeProxyPid !== undefined ? [['node proxy', nodeProxy] as [string, number]] : []), ['apps', apps], ['trellis up', self]];
    this.#rss = { total: cp + sidecars + nodeProxy + apps + self, parts, dataPlane };
  }

  model(now = Date.now()): StatusModel {
    const nodeProxy = this.#ctx.nodeProxy?.();
    const nodeProxySync = nodeProxy ? this.#sync.get(nodeProxy.proxy) : undefined;
    const pods = kubePodLines(this.#ctx.mesh.snapshots(), now).map((l) => ({
      ...l,
      sync: l.sidecar ? this.sync(`${l.namespace}/${l.name}`) : l.ambient ? nodeProxySync : undefined,
      certExpiresAt: certExpiry(this.#certs.get(`${l.namespace}/${l.name}`)),
    }));
    const readyMs = this.#ctx.mesh.pods().flatMap((p) => (p.sidecar?.readyMs !== undefined ? [p.sidecar.readyMs] : []));
    return {
      now,
      dir: this.#ctx.dir,
      modeLine: this.#ctx.modeLine,
      startedAt: performance.timeOrigin,
      controlPlane: this.#ctx.controlPlaneLine(),
      ...(this.#ctx.dashboard?.() ? { dashboard: this.#ctx.dashboard()!.url } : {}),
      pods,
      services: this.#rates.rates(),
      ...(this.#allSyncedMs !== undefined ? { allSyncedMs: this.#allSyncedMs } : {}),
      sidecarReadyMs: readyMs,
      ...(this.#rss ? { rss: this.#rss } : {}),
      events: this.#ctx.events(),
    };
  }
}

const certExpiry = (row: CertRow | undefined) => (row ? Date.parse(row.notAfter) : undefined);

/** The workload certificate's expiry in Envoy's /certs JSON (the dashboard's reading of it, certs.ts). */
export function workloadCertExpiry(body: string): number | undefined {
  return certExpiry(certRow('', body));
}
