/**
 * The admin API on 127.0.0.1:--admin-port with Envoy's paths and shapes:
 * /ready, /server_info, /certs, /config_dump, /clusters, /listeners, /stats,
 * /stats/prometheus, /logging, /drain_listeners, /quitquitquit; and Trellis'
 * /tap (tap-endpoint.ts: live request events, as Linkerd's tap).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrellisError } from '../../errors.js';
import { activeLoggers, handleLogging } from './logging.js';
import { shortName, type TypeUrl } from '../../xds/type-urls.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { ListenerManager } from '../listener/listener-manager.js';
import type { ProxyStats } from '../telemetry/stats.js';
import { esc } from '../telemetry/stats.js';
import type { XdsClient } from '../xds-client/ads-client.js';
import type { SecretStore } from '../tls/secret-store.js';
import { certsJson } from './certs.js';
import type { BootstrapInputs } from './bootstrap.js';
import type { TapHub } from '../tap/tap-hub.js';
import { serveTap } from './tap-endpoint.js';

export interface AdminDeps {
  xds: XdsClient;
  /** Envoy's LIVE: the initial config arrived and its listeners are bound (what /ready and /server_info report). */
  live(): boolean;
  clusters: ClusterManager;
  listeners: ListenerManager;
  stats: ProxyStats;
  nodeId: string;
  startedAt: Date;
  /** Worker threads actually serving (Envoy's --concurrency). */
  concurrency: number;
  secrets: SecretStore;
  /** What /config_dump shows as the bootstrap. */
  bootstrap?: () => BootstrapInputs;
  /** The tappers of /tap (the request path emits their events). */
  tap: TapHub;
  /** Called by POST /quitquitquit after the reply is sent. */
  quit(): void;
}

interface Reply {
  status?: number;
  type: string;
  body: string;
}
type Handler = (url: URL, deps: AdminDeps) => Reply | Promise<Reply>;

const json = (v: unknown) => ({ type: 'application/json', body: JSON.stringify(v, null, 2) + '\n' });
const text = (body: string, status = 200) => ({ status, type: 'text/plain; charset=UTF-8', body });

const handlers: Record<string, Handler> = {
  '/ready': (_u, d) => (d.live() ? text('LIVE\n') : text('PRE_INITIALIZING\n', 503)),
  '/certs': (_u, d) => json(certsJson(d.secrets.all())),
  '/server_info': (_u, d) => json({
    version: 'trellis/0.1.0',
    state: d.live() ? 'LIVE' : 'PRE_INITIALIZING',
    uptime_current_epoch: `${Math.floor((Date.now() - d.startedAt.getTime()) / 1000)}s`,
    uptime_all_epochs: `${Math.floor((Date.now() - d.startedAt.getTime()) / 1000)}s`,
    hot_restart_version: 'disabled',
    command_line_options: { service_node: d.nodeId, concurrency: d.concurrency },
    node: { id: d.nodeId, user_agent_name: 'trellis' },
  }),
  // Loaded on first use: it pulls in the JSON registry of every Envoy type, a large share of start-up time and memory.
  '/config_dump': async (u, d) => json((await import('./config-dump.js')).configDump(d.xds, u.searchParams.has('include_eds'), d.bootstrap?.(), d.secrets.all())),
  '/clusters': (u, d) => (u.searchParams.get('format') === 'json' ? json(clustersJson(d)) : text(clustersText(d))),
  '/listeners': (u, d) => (u.searchParams.get('format') === 'json' ? json(listenersJson(d)) : text(listenersText(d))),
  '/stats': (u, d) => (u.searchParams.get('format') === 'json' ? json({ stats: [...envoyStats(d)].map(([name, value]) => ({ name, value })) }) : text([...envoyStats(d)].map(([k, v]) => `${k}: ${v}\n`).join(''))),
  '/stats/prometheus': (_u, d) => ({ type: 'text/plain; version=0.0.4', body: prometheusText(d) }),
  '/memory': () => json(memoryJson()),
};

/**
 * Envoy's /memory fields (uint64 as strings, as Envoy's JSON writes them) from V8's view: allocated = live
 * JS heap plus memory held outside it (Buffers), heap_size = what V8 reserved, pageheap_free = reserved
 * but unused, total_physical_bytes = the process's RSS. tcmalloc's thread caches and unmapped pages have no
 * equivalent (0).
 */
function memoryJson(): Record<string, string> {
  const m = process.memoryUsage();
  return {
    allocated: String(m.heapUsed + m.external),
    heap_size: String(m.heapTotal),
    pageheap_unmapped: '0',
    pageheap_free: String(m.heapTotal - m.heapUsed),
    total_thread_cache: '0',
    total_physical_bytes: String(m.rss),
  };
}

export function startAdmin(port: number, address: string, deps: AdminDeps): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const post = req.method === 'POST';
    if (url.pathname === '/quitquitquit' && post) {
      res.end('OK\n', () => deps.quit());
      return;
    }
    if (url.pathname === '/logging') {
      // Envoy changes levels on POST only; a GET lists them (convenient with curl, changes nothing).
      const r = post ? handleLogging(url.searchParams) : { status: 200, body: activeLoggers() };
      res.writeHead(r.status, { 'content-type': 'text/plain; charset=UTF-8' }).end(r.body);
      return;
    }
    if (url.pathname === '/tap') return serveTap(req, res, url, deps.tap);
    if (url.pathname === '/drain_listeners' && post) {
      deps.listeners.drainAll();
      res.end('OK\n');
      return;
    }
    const h = handlers[url.pathname];
    if (!h) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`invalid path: ${url.pathname}\n`);
      return;
    }
    Promise.resolve()
      .then(() => h(url, deps))
      .then(
        (r) => res.writeHead(r.status ?? 200, { 'content-type': r.type }).end(r.body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`admin error: ${String(err)}\n`),
      );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new TrellisError('IO', `admin API cannot listen on ${address}:${port}`, { cause: err })));
    server.listen(port, address, () => resolve(server));
  });
}

export function adminPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

function clustersText(d: AdminDeps): string {
  let out = '';
  for (const c of d.clusters.all()) {
    const t = c.plan.thresholds;
    const n = c.plan.name;
    out += `${n}::default_priority::max_connections::${t.maxConnections}\n${n}::default_priority::max_pending_requests::${t.maxPendingRequests}\n`;
    out += `${n}::default_priority::max_requests::${t.maxRequests}\n${n}::default_priority::max_retries::${t.maxRetries}\n`;
    for (const h of c.hosts) {
      out += `${n}::${h.key}::rq_active::${h.active}\n${n}::${h.key}::rq_total::${h.rqTotal}\n${n}::${h.key}::rq_error::${h.rqError}\n`;
      out += `${n}::${h.key}::cx_connect_fail::${h.cxConnectFail}\n${n}::${h.key}::weight::${h.weight}\n${n}::${h.key}::health_flags::${healthFlags(h)}\n`;
      out += `${n}::${h.key}::priority::${h.priority}\n`;
    }
  }
  return out;
}

function clustersJson(d: AdminDeps): unknown {
  return {
    cluster_statuses: [...d.clusters.all()].map((c) => ({
      name: c.plan.name,
      added_via_api: true,
      host_statuses: c.hosts.map((h) => ({
        address: { socket_address: { address: h.address, port_value: h.port } },
        stats: [
          { name: 'rq_active', value: String(h.active), type: 'GAUGE' },
          { name: 'rq_total', value: String(h.rqTotal) },
          { name: 'rq_error', value: String(h.rqError) },
          { name: 'cx_connect_fail', value: String(h.cxConnectFail) },
        ],
        health_status: { eds_health_status: h.healthy ? 'HEALTHY' : 'UNHEALTHY', failed_outlier_check: h.outlier.ejected || undefined },
        weight: h.weight,
        priority: h.priority || undefined,
      })),
    })),
  };
}

/** Envoy's /clusters health_flags: "healthy" or the reasons it is not. */
function healthFlags(h: { healthy: boolean; outlier: { ejected: boolean } }): string {
  const flags = `${h.healthy ? '' : '/failed_eds_health'}${h.outlier.ejected ? '/failed_outlier_check' : ''}`;
  return flags || 'healthy';
}

function listenersText(d: AdminDeps): string {
  return d.listeners.statuses().map((l) => `${l.name}::${l.address}:${l.port}\n`).join('');
}

function listenersJson(d: AdminDeps): unknown {
  return {
    listener_statuses: d.listeners.statuses().map((l) => ({
      name: l.name,
      local_address: { socket_address: { address: l.address, port_value: l.port } },
    })),
  };
}

const XDS_STAT_PREFIX: Record<string, string> = { LDS: 'listener_manager.lds', CDS: 'cluster_manager.cds', RDS: 'http.rds', EDS: 'cluster_manager.eds' };

function* envoyStats(d: AdminDeps): Generator<[string, number]> {
  for (const c of d.clusters.all()) {
    for (const [k, v] of Object.entries(c.stats)) yield [`cluster.${c.plan.name}.${k}`, v];
    yield [`cluster.${c.plan.name}.upstream_rq_active`, c.active];
    yield [`cluster.${c.plan.name}.membership_total`, c.hosts.length];
  }
  yield ['control_plane.connected_state', d.xds.connected ? 1 : 0];
  for (const [t, short] of Object.entries(shortName)) {
    const st = d.xds.state(t as TypeUrl);
    if (!st) continue;
    yield [`${XDS_STAT_PREFIX[short] ?? short}.update_success`, st.accepted];
    yield [`${XDS_STAT_PREFIX[short] ?? short}.update_rejected`, st.rejected];
  }
  for (const [k, v] of d.stats.counters) yield [k, v];
}

/** The proxy's metrics in Prometheus text format (also merged into the agent's status port). */
export function prometheusText(d: Pick<AdminDeps, 'stats' | 'clusters' | 'xds'>): string {
  let out = d.stats.renderPrometheus();
  const clusters = [...d.clusters.all()];
  // Prometheus wants each family contiguous: metric outer, cluster inner.
  const keys = clusters.length > 0 ? Object.keys(clusters[0].stats) : [];
  for (const k of keys) {
    out += `# TYPE envoy_cluster_${k} counter\n`;
    for (const c of clusters) out += `envoy_cluster_${k}{cluster_name="${esc(c.plan.name)}"} ${c.stats[k as keyof typeof c.stats]}\n`;
  }
  out += `# TYPE envoy_control_plane_connected_state gauge\nenvoy_control_plane_connected_state ${d.xds.connected ? 1 : 0}\n`;
  return out;
}
