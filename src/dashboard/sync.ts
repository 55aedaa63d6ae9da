/**
 * The proxies panel and the config changes panel from the control plane's
 * /debug/syncz. A proxy is SYNCED, STALE or NACK as `trellis up`'s status
 * says it (status/sync.ts), with the version it runs per type and the NACK's
 * own words (proxy-status's). A config change is one push: the responses
 * the control plane sent within a burst (versions are content hashes per
 * proxy, so there is no mesh-wide version to compare); a proxy has reached
 * it when every type the push sent it is acknowledged, or when the push
 * sent it nothing. syncz keeps the latest response per type only, so an
 * older push shows the types no later push replaced. Pure.
 */
import { typeWord } from '../debug/proxy-status/status-rows.js';
import type { SynczEntry } from '../debug/syncz.js';
import { syncStates } from '../local/up/status/sync.js';
import type { ConfigChange, ProxyRow } from './model.js';

/** Responses closer than this to the previous one belong to the same push (the control plane's debounce and fan-out). */
export const PUSH_GAP_MS = 1000;
/** The changes shown, newest first. */
export const CHANGES_SHOWN = 5;

export function proxyRows(entries: readonly SynczEntry[]): ProxyRow[] {
  const states = syncStates(entries);
  const rows = new Map<string, ProxyRow>();
  for (const e of entries) {
    const state = states.get(e.proxy) ?? 'STALE';
    // A reconnected proxy has two entries for a moment: the one that gave the state is kept.
    if (rows.get(e.proxy)?.state === state) continue;
    const types = Object.entries(e.types).filter(([, t]) => t.status !== 'NOT SENT').sort(([a], [b]) => a.localeCompare(b));
    const version = types.map(([type, t]) => `${type} ${t.acked?.version ?? '-'}`).join(' · ');
    const nacks = types.filter(([, t]) => typeWord(t) === 'ERROR').map(([type, t]) => `${type}: ${t.nack?.error ?? ''}`);
    rows.set(e.proxy, { proxy: e.proxy, state, version, error: nacks.length > 0 ? nacks.join('; ') : null });
  }
  return [...rows.values()].sort((a, b) => a.proxy.localeCompare(b.proxy));
}

interface Sent {
  proxy: string;
  type: string;
  at: number;
  acked: boolean;
  nacked: boolean;
}

function sends(entries: readonly SynczEntry[]): Sent[] {
  return entries.flatMap((e) => Object.entries(e.types).flatMap(([type, t]) => {
    const at = t.sentAt === undefined ? NaN : Date.parse(t.sentAt);
    if (Number.isNaN(at) || !t.sent) return [];
    return [{ proxy: e.proxy, type, at, acked: t.acked?.nonce === t.sent.nonce, nacked: t.nack !== undefined && t.nack.nonce === t.sent.nonce }];
  }));
}

/** The latest pushes (newest first) with the share of proxies that reached each. */
export function configChanges(entries: readonly SynczEntry[]): ConfigChange[] {
  const all = sends(entries).sort((a, b) => a.at - b.at);
  const bursts: Sent[][] = [];
  for (const s of all) {
    const cur = bursts.at(-1);
    if (cur && s.at - cur.at(-1)!.at <= PUSH_GAP_MS) cur.push(s);
    else bursts.push([s]);
  }
  const proxies = new Set(entries.map((e) => e.proxy));
  return bursts.reverse().slice(0, CHANGES_SHOWN).map((b) => {
    // syncz keeps each type's latest response only: a type sent again later counts for the later push.
    const behind = new Set(b.filter((s) => !s.acked).map((s) => s.proxy));
    const nacked = new Set(b.filter((s) => s.nacked).map((s) => s.proxy));
    return {
      at: new Date(b[0]!.at).toISOString(),
      types: [...new Set(b.map((s) => s.type))].sort(),
      reached: [...proxies].filter((p) => !behind.has(p)).length,
      total: proxies.size,
      nacked: nacked.size,
    };
  });
}
