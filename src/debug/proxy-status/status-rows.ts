/**
 * istioctl proxy-status, from /debug/syncz: one row per proxy, sorted by
 * name, with istioctl's columns (its ISTIOD column is CONTROL PLANE here) and
 * its words per type — SYNCED, STALE, ERROR (the proxy NACKed the last
 * response), NOT SENT, IGNORED (not subscribed) — the first two with the age
 * of the last response, as "SYNCED (5m)". Pure: entries and a clock in,
 * rows out.
 *
 * The node proxy (`trellis ztunnel`, ztunnel's role) subscribes to the
 * workload API only: when one is listed, WADS and WDS columns follow ECDS,
 * as istioctl adds a column per type it sees after the Envoy ones (sorted by
 * type URL: istio.security.Authorization, then istio.workload.Address), and
 * every other row reads IGNORED there.
 */
import type { TypeStatus } from '../../controlplane/server/sync-status.js';
import { humanDuration } from '../format/human-duration.js';
import type { Row } from '../format/table.js';
import type { SynczEntry } from '../syncz.js';

const TYPES = ['CDS', 'LDS', 'EDS', 'RDS', 'ECDS'] as const;
const WORKLOAD_API_TYPES = ['WADS', 'WDS'] as const;

/** The type columns: Envoy's, then the workload API's when some proxy subscribes to it. */
export function typeColumns(entries: readonly SynczEntry[]): string[] {
  const workloadApi = entries.some((e) => WORKLOAD_API_TYPES.some((t) => e.types[t] !== undefined));
  return [...TYPES, ...(workloadApi ? WORKLOAD_API_TYPES : [])];
}

export function proxyStatusHeader(entries: readonly SynczEntry[]): Row {
  return ['NAME', 'CLUSTER', ...typeColumns(entries), 'CONTROL PLANE', 'VERSION'];
}

export type TypeWord = 'SYNCED' | 'STALE' | 'ERROR' | 'NOT SENT' | 'IGNORED';

/** istiod's ConfigStatus for one type: ERROR while the last response is NACKed. */
export function typeWord(t: TypeStatus | undefined): TypeWord {
  if (t === undefined) return 'IGNORED';
  if (t.status === 'NOT SENT') return 'NOT SENT';
  if (t.nack !== undefined && t.nack.nonce === t.sent?.nonce) return 'ERROR';
  return t.status;
}

function cell(t: TypeStatus | undefined, now: number): string {
  const word = typeWord(t);
  if ((word === 'NOT SENT' || word === 'IGNORED') || t?.sentAt === undefined) return word;
  return `${word} (${humanDuration(now - Date.parse(t.sentAt))})`;
}

/** The proxy's version: ISTIO_VERSION when it sends one (istioctl's column), else its user agent. */
export function proxyVersion(e: SynczEntry): string {
  return e.istioVersion ?? e.userAgent ?? '';
}

export function statusRow(e: SynczEntry, now: number, types: readonly string[] = TYPES): Row {
  return [e.proxy, e.clusterId ?? '', ...types.map((t) => cell(e.types[t], now)), e.controlPlane ?? '', proxyVersion(e)];
}

/** Sorted by name, with the columns of `proxyStatusHeader(entries)`. */
export function statusRows(entries: readonly SynczEntry[], now: number): Row[] {
  const types = typeColumns(entries);
  return [...entries].sort((a, b) => (a.proxy < b.proxy ? -1 : a.proxy > b.proxy ? 1 : 0)).map((e) => statusRow(e, now, types));
}

/** True when some type is STALE or ERROR: what makes `trellis proxy-status` exit 1. */
export function outOfSync(e: SynczEntry): boolean {
  return [...TYPES, ...WORKLOAD_API_TYPES].some((t) => ['STALE', 'ERROR'].includes(typeWord(e.types[t])));
}

/**
 * Why each STALE or ERROR type of one proxy is so, one line each: the NACK's
 * own words, or the version still waiting for its ACK.
 */
export function outOfSyncReasons(e: SynczEntry, now: number): string[] {
  const out: string[] = [];
  for (const [type, t] of Object.entries(e.types)) {
    const word = typeWord(t);
    const ago = (iso: string | undefined) => (iso === undefined ? '' : ` ${humanDuration(now - Date.parse(iso))} ago`);
    if (word === 'ERROR') {
      out.push(`${type} ERROR: the proxy rejected (NACKed) version ${t.sent?.version ?? '?'}${ago(t.nack?.at)}: ${t.nack?.error ?? ''}`);
    } else if (word === 'STALE') {
      const last = t.acked ? `; it runs version ${t.acked.version}` : '; it never acknowledged any version';
      const nack = t.nack ? `; an earlier version was rejected: ${t.nack.error}` : '';
      out.push(`${type} STALE: version ${t.sent?.version ?? '?'} sent${ago(t.sentAt)} is not acknowledged yet${last}${nack}`);
    }
  }
  return out;
}
