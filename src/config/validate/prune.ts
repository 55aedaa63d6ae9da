/**
 * Drops the fields a schema does not list, recursively. For objects the
 * Kubernetes API server has already validated (built-in kinds read by the
 * Kubernetes source): a field Trellis does not know there is one added by a
 * newer Kubernetes, not a typo, and must not cost a Pod its endpoints. It
 * also keeps the informers' copies small. Never used on files, where an
 * unknown field is reported.
 */
import { isPlainObject } from './walk.js';
import type { Schema } from './schema.js';

export function pruneUnknown(value: unknown, schema: Schema): unknown {
  if (value === null || value === undefined) return value;
  switch (schema.type) {
    case 'object': {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const field = schema.fields[k];
        if (field !== undefined && Object.hasOwn(schema.fields, k)) out[k] = pruneUnknown(v, field);
      }
      return out;
    }
    case 'map':
      if (!isPlainObject(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pruneUnknown(v, schema.values)]));
    case 'array':
      return Array.isArray(value) ? value.map((v) => pruneUnknown(v, schema.items)) : value;
    default:
      return value;
  }
}
