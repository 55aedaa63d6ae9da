/** Decodes every resource of one response; collects all errors into one NACK detail. */
import type { Any } from '@bufbuild/protobuf/wkt';
import type { AppliedResource, ResourceType } from './resource-type.js';

export interface IncomingResource {
  any: Any | undefined;
  /** Delta carries the name beside the resource; SotW only inside it. */
  name: string | undefined;
  version: string;
}

export type DecodeAllResult = { ok: true; applied: AppliedResource[] } | { ok: false; detail: string };

export function decodeAll(type: ResourceType, incoming: IncomingResource[]): DecodeAllResult {
  const errors: string[] = [];
  const applied: AppliedResource[] = [];
  const now = new Date();
  for (const [i, r] of incoming.entries()) {
    if (!r.any) {
      errors.push(`${type.short} ${r.name ?? `resources[${i}]`}: resource is empty`);
      continue;
    }
    if (r.any.typeUrl !== type.typeUrl) {
      errors.push(`${type.short} ${r.name ?? `resources[${i}]`}: type ${r.any.typeUrl} in a ${type.typeUrl} response`);
      continue;
    }
    const d = type.decode(r.any);
    if (!d.ok) {
      for (const e of d.errors) errors.push(`${type.short} ${d.name || r.name || `resources[${i}]`}: ${e}`);
      continue;
    }
    applied.push({ name: d.name, version: r.version, value: d.value, raw: r.any, lastUpdated: now });
  }
  return errors.length > 0 ? { ok: false, detail: errors.join('; ') } : { ok: true, applied };
}
