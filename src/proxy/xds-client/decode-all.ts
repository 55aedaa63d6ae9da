/**
 * Decodes every resource of one response, one by one (Envoy's CDS/LDS
 * handling): a resource that decodes but does not validate is rejected on its
 * own — the client keeps its last good version — while the valid ones are
 * applied. A resource that cannot even be named (empty, of another type,
 * undecodable, no name) rejects the whole response, as Envoy's decoder does
 * before any resource is looked at.
 */
import type { Any } from '@bufbuild/protobuf/wkt';
import type { AppliedResource, ResourceType } from './resource-type.js';

export interface IncomingResource {
  any: Any | undefined;
  /** Delta carries the name beside the resource; SotW only inside it. */
  name: string | undefined;
  version: string;
}

/**
 * `ok`: every resource is valid. Otherwise `detail` lists every error with the resource's type, name and
 * field path ("CDS name: path: reason; ..."), and `fatal` says whether the whole response is rejected;
 * if not, `applied` are the valid resources and `rejected` the names whose last good version stays.
 */
export type DecodeAllResult =
  | { ok: true; applied: AppliedResource[] }
  | { ok: false; detail: string; fatal: boolean; applied: AppliedResource[]; rejected: Set<string> };

export function decodeAll(type: ResourceType, incoming: IncomingResource[]): DecodeAllResult {
  const errors: string[] = [];
  let fatal = false;
  const applied = new Map<string, AppliedResource>();
  const rejected = new Set<string>();
  const now = new Date();
  const fail = (label: string, why: string) => {
    fatal = true;
    errors.push(`${type.short} ${label}: ${why}`);
  };
  for (const [i, r] of incoming.entries()) {
    const label = r.name ?? `resources[${i}]`;
    if (!r.any) {
      fail(label, 'resource is empty');
      continue;
    }
    if (r.any.typeUrl !== type.typeUrl) {
      fail(label, `type ${r.any.typeUrl} in a ${type.typeUrl} response`);
      continue;
    }
    const d = type.decode(r.any);
    const name = d.name || r.name;
    if (!name) {
      if (!d.ok) for (const e of d.errors) fail(label, e);
      else fail(label, 'name: missing');
      continue;
    }
    if (applied.has(name) || rejected.has(name)) {
      // As Envoy: the first copy stands, the duplicate is an error.
      errors.push(`${type.short} ${name}: duplicate resource ${name} in one response`);
      continue;
    }
    if (!d.ok) {
      rejected.add(name);
      for (const e of d.errors) errors.push(`${type.short} ${name}: ${e}`);
      continue;
    }
    applied.set(name, { name, version: r.version, value: d.value, raw: r.any, lastUpdated: now });
  }
  const valid = [...applied.values()];
  return errors.length === 0 ? { ok: true, applied: valid } : { ok: false, detail: errors.join('; '), fatal, applied: valid, rejected };
}
