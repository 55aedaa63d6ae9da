/**
 * The checks kube-apiserver makes on a write that the double's tests rely
 * on: object names (DNS-1123), a Lease's MicroTime fields (Go's
 * RFC3339Micro: six fractional digits, as client-go writes them; a
 * millisecond ISO string fails to decode there), a Secret's data (base64;
 * stringData is folded into data, as the API server does).
 */
import { badRequest, invalid } from './status.js';
import type { ResourceDef } from './kinds.js';
import type { StoredObject } from './store.js';

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const microTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function checkWrite(def: ResourceDef, body: StoredObject): void {
  const name = body.metadata.name;
  const nameOk = def.kind === 'Namespace' ? label.test(name) && name.length <= 63 : subdomain.test(name) && name.length <= 253;
  if (!nameOk) throw invalid(def, name, `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 ${def.kind === 'Namespace' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.'`);
  if (body.kind !== undefined && body.kind !== def.kind) throw badRequest(`the kind ${String(body.kind)} does not match the resource ${def.plural}`);
  if (def.kind === 'Lease') checkLease(body);
  if (def.kind === 'Secret') foldSecret(def, body);
}

function checkLease(body: StoredObject): void {
  const spec = (body.spec ?? {}) as Record<string, unknown>;
  for (const f of ['acquireTime', 'renewTime']) {
    const v = spec[f];
    if (v !== undefined && v !== null && (typeof v !== 'string' || !microTime.test(v))) {
      throw badRequest(`Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse`);
    }
  }
  const d = spec.leaseDurationSeconds;
  if (d !== undefined && (!Number.isInteger(d) || (d as number) <= 0)) throw invalid({ kind: 'Lease' } as ResourceDef, body.metadata.name, 'spec.leaseDurationSeconds: must be greater than 0');
}

function foldSecret(def: ResourceDef, body: StoredObject): void {
  const data = { ...((body.data ?? {}) as Record<string, unknown>) };
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string' || !base64.test(v) || v.length % 4 !== 0) {
      throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at key ${JSON.stringify(k)}`);
    }
  }
  for (const [k, v] of Object.entries((body.stringData ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalid(def, body.metadata.name, `stringData[${k}]: must be a string`);
    data[k] = Buffer.from(v).toString('base64');
  }
  delete body.stringData;
  body.data = data;
}
