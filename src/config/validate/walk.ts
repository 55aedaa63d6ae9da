/** Checks a value against a Schema, collecting every issue with its field path. */
import type { FieldPath } from '../load-yaml.js';
import type { Issue, Schema, ObjectSchema } from './schema.js';

/** Appends to `out` every way `value` (at `path`) does not fit `schema`. */
export function walk(value: unknown, schema: Schema, path: FieldPath, out: Issue[]): void {
  // Kubernetes treats an explicit null like an absent field.
  if (value === null || value === undefined) {
    if (schema.required) out.push({ path, message: 'required field is missing' });
    return;
  }
  switch (schema.type) {
    case 'opaque':
      return;
    case 'string':
      return walkString(value, schema.enum, schema.check, path, out);
    case 'int':
    case 'number':
      return walkNumber(value, schema.type, schema.min, schema.max, path, out);
    case 'bool':
      if (typeof value !== 'boolean') out.push({ path, message: 'must be a boolean' });
      return;
    case 'intOrString':
      if (typeof value !== 'string' && !Number.isInteger(value)) out.push({ path, message: 'must be an integer or a string' });
      return;
    case 'object':
      return walkObject(value, schema, path, out);
    case 'map':
      if (!isPlainObject(value)) return void out.push({ path, message: 'must be a mapping' });
      for (const [k, v] of Object.entries(value)) {
        const bad = schema.keys?.(k);
        if (bad !== undefined) out.push({ path: [...path, k], message: bad });
        walk(v, schema.values, [...path, k], out);
      }
      return;
    case 'array':
      if (!Array.isArray(value)) return void out.push({ path, message: 'must be a list' });
      // A null item is not an absent one: there is no element to skip, and every reader would trip over it.
      value.forEach((item, i) => (item === null || item === undefined ? out.push({ path: [...path, i], message: 'list item must not be null' }) : walk(item, schema.items, [...path, i], out)));
      if (schema.check) for (const i of schema.check(value)) out.push({ path: [...path, ...i.path], message: i.message });
      return;
  }
}

function walkString(
  value: unknown,
  allowed: readonly string[] | undefined,
  check: ((v: string) => string | undefined) | undefined,
  path: FieldPath,
  out: Issue[],
): void {
  if (typeof value !== 'string') return void out.push({ path, message: 'must be a string' });
  if (allowed && !allowed.includes(value)) {
    return void out.push({ path, message: `must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})` });
  }
  const bad = check?.(value);
  if (bad !== undefined) out.push({ path, message: bad });
}

function walkNumber(value: unknown, type: 'int' | 'number', min: number | undefined, max: number | undefined, path: FieldPath, out: Issue[]): void {
  const okType = type === 'int' ? Number.isInteger(value) : typeof value === 'number' && Number.isFinite(value);
  const inRange = okType && (min === undefined || (value as number) >= min) && (max === undefined || (value as number) <= max);
  if (inRange) return;
  const what = type === 'int' ? 'an integer' : 'a number';
  const range = min !== undefined && max !== undefined ? ` ${min}..${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';
  out.push({ path, message: `must be ${what}${range}` + (okType ? ` (got ${String(value)})` : '') });
}

function walkObject(value: unknown, schema: ObjectSchema, path: FieldPath, out: Issue[]): void {
  if (!isPlainObject(value)) return void out.push({ path, message: 'must be a mapping' });
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(schema.fields, key)) out.push({ path: [...path, key], message: unknownField(key, Object.keys(schema.fields)) });
  }
  for (const [key, fieldSchema] of Object.entries(schema.fields)) walk(value[key], fieldSchema, [...path, key], out);
  if (schema.check) for (const i of schema.check(value)) out.push({ path: [...path, ...i.path], message: i.message });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownField(key: string, known: string[]): string {
  const close = known.filter((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= Math.max(1, Math.floor(k.length / 4)));
  return close.length > 0 ? `unknown field (did you mean ${close.map((c) => JSON.stringify(c)).join(' or ')}?)` : 'unknown field';
}

/** Optimal string alignment distance: a swapped pair of letters ("lables") counts as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** "spec.http[0].route[1].weight" */
export function formatPath(path: FieldPath): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}
