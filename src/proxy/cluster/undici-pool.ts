/**
 * undici, loaded only for TRELLIS_HTTP1_ENGINE=node: the default engine (src/proxy/h1/) does not
 * need it, and importing it costs ~70 ms and ~9 MB at start-up (bench/results/proxy-*).
 */
import type { Pool } from 'undici';
import type { PoolSettings } from './host.js';

let PoolClass: typeof Pool | undefined;

/** Loads undici once; Proxy.start awaits it before any listener exists when the node engine is chosen. */
export async function loadUndici(): Promise<void> {
  PoolClass ??= (await import('undici')).Pool;
}

export function undiciPool(origin: string, s: PoolSettings): Pool {
  if (!PoolClass) throw new Error('undici is not loaded (TRELLIS_HTTP1_ENGINE=node loads it at start)');
  return new PoolClass(origin, {
    connections: s.connections,
    pipelining: 1,
    connect: { timeout: s.connectTimeoutMs },
    localAddress: s.sourceAddress,
    keepAliveTimeout: 60_000,
    // The route timeout governs; undici's own defaults (300 s) must not cut long requests short first.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}
