/**
 * A proxy's sync state from the control plane's /debug/syncz, in
 * proxy-status words: SYNCED when every type sent was acknowledged, NACK
 * when the proxy rejected the latest of some type, STALE otherwise. Pure.
 */
export type ProxySync = 'SYNCED' | 'STALE' | 'NACK';

interface SynczEntry {
  proxy: string;
  types: Record<string, { status: string; nack?: unknown; sent?: unknown }>;
}

/** "pod.namespace" → state, for every connected proxy. */
export function syncStates(syncz: unknown): Map<string, ProxySync> {
  const out = new Map<string, ProxySync>();
  if (!Array.isArray(syncz)) return out;
  for (const e of syncz as SynczEntry[]) {
    const types = Object.values(e.types ?? {});
    const state: ProxySync = types.some((t) => t.nack !== undefined) ? 'NACK' : types.every((t) => t.status === 'SYNCED' || t.status === 'NOT SENT') && types.some((t) => t.status === 'SYNCED') ? 'SYNCED' : 'STALE';
    // A proxy that reconnected has two entries for a moment: the better one is the live one.
    const prev = out.get(e.proxy);
    if (prev !== 'SYNCED') out.set(e.proxy, state);
  }
  return out;
}
