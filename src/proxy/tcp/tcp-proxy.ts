/**
 * The TCP proxy filter: picks a cluster (weighted) and an endpoint, connects,
 * and pipes bytes both ways with back-pressure. Half-close is honoured: a FIN
 * from one side is passed on while the other direction keeps flowing.
 */
import type { Socket } from 'node:net';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { ConnContext } from '../listener/conn-context.js';
import type { ProxyStats } from '../telemetry/stats.js';
import { logger } from '../../log.js';
import type { TcpPlan } from './tcp-plan.js';
import { StreamInfo } from '../telemetry/stream-info.js';
import { connectUpstream } from '../upstream/tcp-connect.js';
import { sharedWithUpstream } from '../internal/filter-state.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import type { TunnelingPlan } from './tunneling-plan.js';
import { tunnelTcp } from './tcp-tunnel.js';

const log = logger('tcp');

export interface TcpDeps {
  clusters: ClusterManager;
  stats: ProxyStats;
}

function pickCluster(plan: TcpPlan): string | undefined {
  if (plan.clusters.length === 1) return plan.clusters[0].name;
  const r = Math.random() * plan.total;
  return plan.clusters.find((c) => r < c.upTo)?.name;
}

/** The connection's access-log record; only built when the listener logs. */
function streamInfo(plan: TcpPlan, conn: ConnContext, cluster: string | undefined): StreamInfo | undefined {
  if (plan.accessLogs.length === 0) return undefined;
  const info = new StreamInfo();
  info.protocol = '';
  info.downstreamLocal = conn.local;
  info.downstreamRemote = conn.remote;
  info.requestedServerName = conn.serverName;
  info.downstreamPeerUriSan = conn.peerUriSan ?? '';
  info.upstreamCluster = cluster ?? '';
  return info;
}

function writeLog(plan: TcpPlan, info: StreamInfo | undefined): void {
  if (!info) return;
  info.finish();
  for (const sink of plan.accessLogs) sink.write(sink.format(info));
}

/** A connection a network filter (RBAC) refused before the TCP proxy ran: logged with the reason. */
export function deniedTcp(plan: TcpPlan, conn: ConnContext, details: string): void {
  const info = streamInfo(plan, conn, undefined);
  if (!info) return;
  info.connectionTerminationDetails = details;
  writeLog(plan, info);
}

export function proxyTcp(down: Socket, plan: TcpPlan, conn: ConnContext, deps: TcpDeps): void {
  const name = pickCluster(plan);
  const cluster = name ? deps.clusters.get(name) : undefined;
  const host = cluster?.pick(conn.originalDst, undefined, { metadata: [conn.metadata] });
  const info = streamInfo(plan, conn, name);
  if (!cluster || !host) {
    if (cluster) cluster.stats.upstream_cx_none_healthy++;
    log.debug('no upstream for tcp connection', { cluster: name });
    info?.addFlag(cluster ? 'UH' : 'NC');
    writeLog(plan, info);
    down.destroy();
    return;
  }
  if (!cluster.admit()) {
    cluster.stats.upstream_rq_pending_overflow++;
    info?.addFlag('UO');
    writeLog(plan, info);
    down.destroy();
    return;
  }
  if (info) info.upstreamHost = host.key;
  if (plan.tunneling) return tunnel(down, plan, plan.tunneling, conn, deps, cluster, host, info);
  const c = connectUpstream(host, cluster.plan.sourceAddress, sharedWithUpstream(conn.filterState));
  if (c instanceof Error) {
    cluster.release();
    cluster.stats.upstream_cx_connect_fail++;
    log.debug('upstream TLS not ready', { cluster: name, error: c.message });
    info?.addFlag('UF');
    writeLog(plan, info);
    down.destroy();
    return;
  }
  deps.stats.recordTcp(cluster.plan.name, 'open');
  host.active++;
  const up = c.socket;
  let connecting = true;
  const connectTimer = setTimeout(() => up.destroy(new Error('connect timeout')), cluster.plan.connectTimeoutMs);
  let sent = 0;
  let received = 0;
  let closed = 0;
  const onClose = () => {
    if (++closed < 2) return;
    host.active--;
    cluster.release();
    deps.stats.recordTcp(cluster.plan.name, 'close', sent, received);
    if (info) {
      info.bytesReceived = received;
      info.bytesSent = sent;
      writeLog(plan, info);
    }
  };
  up.once(c.ready, () => {
    connecting = false;
    clearTimeout(connectTimer);
  });
  up.on('error', (err) => {
    // A failed TLS handshake is a connect failure too (UF), as in Envoy.
    if (!connecting) log.debug('upstream tcp error', { error: err.message });
    else {
      cluster.stats.upstream_cx_connect_fail++;
      info?.addFlag('UF');
    }
    down.destroy();
  });
  down.on('error', () => up.destroy());
  down.on('data', (b: Buffer) => { received += b.length; });
  up.on('data', (b: Buffer) => { sent += b.length; });
  down.pipe(up);
  up.pipe(down);
  down.resume();
  up.once('close', () => { clearTimeout(connectTimer); down.destroy(); onClose(); });
  down.once('close', () => { if (up.writableFinished || up.destroyed) up.destroy(); else up.end(); onClose(); });
  if (plan.idleTimeoutMs > 0) {
    const idle = () => { down.destroy(); up.destroy(); };
    down.setTimeout(plan.idleTimeoutMs, idle);
    up.setTimeout(plan.idleTimeoutMs, idle);
  }
}

/** tunneling_config: the same accounting as a direct connection, the bytes inside a CONNECT (tcp-tunnel.ts). */
function tunnel(down: Socket, plan: TcpPlan, t: TunnelingPlan, conn: ConnContext, deps: TcpDeps, cluster: UpstreamCluster, host: Host, info: StreamInfo | undefined): void {
  const name = cluster.plan.name;
  host.active++;
  const release = () => {
    host.active--;
    cluster.release();
  };
  tunnelTcp(down, t, conn, cluster, host, plan.idleTimeoutMs, {
    opened: () => deps.stats.recordTcp(name, 'open'),
    failed: (err) => {
      release();
      cluster.stats.upstream_cx_connect_fail++;
      log.debug('tunnel failed', { cluster: name, error: err.message });
      info?.addFlag('UF');
      writeLog(plan, info);
      down.destroy();
    },
    done: (sent, received) => {
      release();
      deps.stats.recordTcp(name, 'close', sent, received);
      if (info) {
        info.bytesReceived = received;
        info.bytesSent = sent;
      }
      writeLog(plan, info);
    },
  });
}
