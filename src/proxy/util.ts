/** Small helpers shared by the proxy's stages. */
import type { Duration } from '@bufbuild/protobuf/wkt';

/** A protobuf Duration in milliseconds; undefined when unset. */
export function durationMs(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}

/** FNV-1a 32-bit hash: cheap, stable, good enough to spread request ids. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
