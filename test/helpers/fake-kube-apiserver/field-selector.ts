/**
 * Field selectors as the API server reads them for list and watch:
 * comma-separated terms `field=value`, `field==value` or `field!=value`,
 * all of which must hold. Every resource takes metadata.name and
 * metadata.namespace; a Secret also takes `type` (the real server's
 * field-label conversions). Any other field is refused with the server's
 * 400, never ignored. Label selectors are not implemented (400).
 */
import type { ResourceDef } from './kinds.js';
import { badRequest } from './status.js';
import type { StoredObject } from './store.js';

export type ObjectFilter = (obj: StoredObject) => boolean;

const fieldOf: Record<string, (o: StoredObject) => string> = {
  'metadata.name': (o) => o.metadata.name ?? '',
  'metadata.namespace': (o) => o.metadata.namespace ?? '',
};
const secretFields: Record<string, (o: StoredObject) => string> = { type: (o) => (typeof o['type'] === 'string' ? o['type'] : '') };

export function selectorFilter(def: ResourceDef, query: URLSearchParams): ObjectFilter {
  if (query.get('labelSelector')) throw badRequest('the test double does not implement label selectors');
  const text = query.get('fieldSelector') ?? '';
  if (text === '') return () => true;
  const terms = text.split(',').map((term) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = fieldOf[field] ?? (def.kind === 'Secret' && def.group === '' ? secretFields[field] : undefined);
    if (!get) throw badRequest(`"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"${def.kind === 'Secret' ? ', "type"' : ''}`);
    return (o: StoredObject) => (get(o) === value) === (op !== '!=');
  });
  return (o) => terms.every((t) => t(o));
}
