/** Small helpers shared by the proxy's stages. */
import { anyUnpack, type Any, type Duration } from '@bufbuild/protobuf/wkt';

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

/** A typed_config unpacked with its schema; a wrong type or bad bytes are an error at `path`.typedConfig. */
export function unpackTyped<T extends Parameters<typeof anyUnpack>[1]>(any: Any, schema: T, path: string, errors: string[]) {
  try {
    const m = anyUnpack(any, schema);
    if (!m) errors.push(`${path}.typedConfig: cannot decode ${any.typeUrl}`);
    return m;
  } catch (err) {
    errors.push(`${path}.typedConfig: cannot decode ${any.typeUrl}: ${(err as Error).message}`);
    return undefined;
  }
}
