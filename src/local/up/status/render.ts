/**
 * The live status as lines of text: a header (mode, control plane, start-up
 * numbers, memory), the pods with readiness, proxy sync and certificate
 * expiry, traffic per service, and the latest events. Pure: the same lines
 * go to a terminal (redrawn in place) and to a log.
 */
import { alignTable, humanDuration } from '../kube-table.js';
import type { ServiceRate } from './service-stats.js';
import type { ProxySync } from './sync.js';

export interface PodLine {
  namespace: string;
  name: string;
  ready: string;
  status: string;
  restarts: number;
  ip: string;
  sidecar: boolean;
  /** Served by the node proxy: `sync` is then the node proxy's. */
  ambient?: boolean;
  sync?: ProxySync;
  certExpiresAt?: number;
}

/** The two data planes' memory side by side: the sidecars', and the node proxy's for the ambient pods. */
export interface DataPlaneMemory {
  sidecars: number;
  sidecarBytes: number;
  /** Absent when no node proxy runs. */
  nodeProxyBytes?: number;
  ambientPods: number;
}

export interface StatusModel {
  now: number;
  dir: string;
  modeLine: string;
  startedAt: number;
  controlPlane: string;
  controlPlaneNote?: string;
  /** The dashboard's URL. */
  dashboard?: string;
  pods: PodLine[];
  services: ServiceRate[];
  allSyncedMs?: number;
  sidecarReadyMs: number[];
  rss?: { total: number; parts: [string, number][]; dataPlane?: DataPlaneMemory };
  events: string[];
}

const MiB = 1024 * 1024;

function ms(n: number): string {
  return n < 10_000 ? `${(n / 1000).toFixed(1)} s` : humanDuration(n);
}

function startupLine(m: StatusModel): string {
  const sidecars = m.pods.filter((p) => p.sidecar).length;
  const synced = m.pods.filter((p) => p.sidecar && p.sync === 'SYNCED').length;
  const parts = [`${m.pods.length} pods (${sidecars} with sidecars)`];
  if (sidecars === 0) parts.push('no sidecars');
  else parts.push(m.allSyncedMs !== undefined ? `all proxies SYNCED ${ms(m.allSyncedMs)} after start` : `${synced}/${sidecars} proxies SYNCED`);
  if (m.sidecarReadyMs.length > 0) {
    const sorted = [...m.sidecarReadyMs].sort((a, b) => a - b);
    parts.push(`sidecars ready ${Math.round(sorted[0]!)}–${Math.round(sorted.at(-1)!)} ms after start`);
  }
  if (m.rss) parts.push(`RSS ${Math.round(m.rss.total / MiB)} MiB (${m.rss.parts.map(([k, v]) => `${k} ${Math.round(v / MiB)}`).join(', ')})`);
  return parts.join(' · ');
}

/**
 * "data plane memory: 2 sidecars 81 MiB · node proxy 46 MiB for 2 ambient
 * pods" — only in a mesh with ambient pods or a node proxy (with sidecars
 * only, the RSS parts say it all).
 */
export function dataPlaneLine(d: DataPlaneMemory | undefined): string | undefined {
  if (!d || (d.nodeProxyBytes === undefined && d.ambientPods === 0)) return undefined;
  const nodeProxy = d.nodeProxyBytes === undefined ? 'node proxy not running' : `node proxy ${Math.round(d.nodeProxyBytes / MiB)} MiB`;
  return `data plane memory: ${d.sidecars} sidecars ${Math.round(d.sidecarBytes / MiB)} MiB · ${nodeProxy} for ${d.ambientPods} ambient pods`;
}

export function renderStatus(m: StatusModel): string[] {
  const dataPlane = dataPlaneLine(m.rss?.dataPlane);
  const lines = [
    `trellis up ${m.dir} · ${m.modeLine} · up ${humanDuration(m.now - m.startedAt)}${m.dashboard ? ` · dashboard ${m.dashboard}` : ''}`,
    `control plane ${m.controlPlane}${m.controlPlaneNote ? ` (${m.controlPlaneNote})` : ''} · ${startupLine(m)}`,
    ...(dataPlane ? [dataPlane] : []),
    '',
  ];
  const rows: string[][] = [['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'IP', 'PROXY', 'CERT EXPIRES']];
  for (const p of m.pods) {
    const cert = p.certExpiresAt === undefined ? (p.sidecar ? '-' : '') : `in ${humanDuration(p.certExpiresAt - m.now)}`;
    const proxy = p.sidecar ? p.sync ?? '-' : p.ambient ? `node proxy ${p.sync ?? '-'}` : 'no sidecar';
    rows.push([p.namespace, p.name, p.ready, p.status, String(p.restarts), p.ip, proxy, cert]);
  }
  lines.push(...alignTable(rows).trimEnd().split('\n'), '');
  const svc: string[][] = [['SERVICE', 'RPS', 'ERRORS', 'P99', 'REQUESTS']];
  for (const s of m.services) {
    svc.push([s.key.replace(/\.svc\.cluster\.local$/, ''), s.rps.toFixed(1), `${s.errorPct.toFixed(1)}%`, s.p99Ms === undefined ? '-' : `${s.p99Ms < 10 ? s.p99Ms.toFixed(1) : Math.round(s.p99Ms)} ms`, String(s.requests)]);
  }
  if (m.services.length > 0) lines.push(...alignTable(svc).trimEnd().split('\n'), '');
  else lines.push('no traffic yet', '');
  if (m.events.length > 0) lines.push('events:', ...m.events.map((e) => `  ${e}`));
  return lines;
}
