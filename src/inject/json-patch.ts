/**
 * An RFC 6902 JSON Patch from one JSON document to another, for the
 * webhook's answer. Objects are diffed key by key; arrays are aligned by a
 * longest common subsequence in which elements that carry a `name` (containers,
 * volumes, env entries) match by name and are diffed in place, and other
 * elements match when equal — so injecting a container is one `add`, not a
 * rewrite of every container after it. Ops are meant to be applied in order,
 * as RFC 6902 requires. Pure.
 */

export type PatchOp =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

/** Above this many comparisons an array is replaced whole rather than aligned (bounded time on hostile input). */
const MAX_ALIGN_CELLS = 1_000_000;

/** RFC 6901: "~" → "~0", "/" → "~1" (annotation keys such as prometheus.io/port contain slashes). */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON text with object keys sorted: equal documents give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isPlainObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export function createPatch(from: unknown, to: unknown): PatchOp[] {
  const ops: PatchOp[] = [];
  diff(from, to, '', ops);
  return ops;
}

function diff(a: unknown, b: unknown, path: string, ops: PatchOp[]): void {
  if (isPlainObject(a) && isPlainObject(b)) return diffObjects(a, b, path, ops);
  if (Array.isArray(a) && Array.isArray(b)) return diffArrays(a, b, path, ops);
  if (canonicalJson(a) !== canonicalJson(b)) ops.push({ op: 'replace', path, value: b });
}

function diffObjects(a: Record<string, unknown>, b: Record<string, unknown>, path: string, ops: PatchOp[]): void {
  for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) ops.push({ op: 'remove', path: `${path}/${escapePointer(k)}` });
  for (const [k, v] of Object.entries(b)) {
    const p = `${path}/${escapePointer(k)}`;
    if (Object.hasOwn(a, k)) diff(a[k], v, p, ops);
    else ops.push({ op: 'add', path: p, value: v });
  }
}

/** The identity an element is matched by: its name when it has one, else its whole value. */
function identity(v: unknown): string {
  return isPlainObject(v) && typeof v.name === 'string' ? `name:${v.name}` : `value:${canonicalJson(v)}`;
}

function diffArrays(a: unknown[], b: unknown[], path: string, ops: PatchOp[]): void {
  if (canonicalJson(a) === canonicalJson(b)) return;
  if (a.length * b.length > MAX_ALIGN_CELLS) {
    ops.push({ op: 'replace', path, value: b });
    return;
  }
  const pairs = align(a.map(identity), b.map(identity));
  let pos = 0;
  let i = 0;
  let j = 0;
  for (const [x, y] of [...pairs, [a.length, b.length] as const]) {
    for (; i < x; i++) ops.push({ op: 'remove', path: `${path}/${pos}` });
    for (; j < y; j++) ops.push({ op: 'add', path: `${path}/${pos++}`, value: b[j] });
    if (x < a.length) diff(a[x], b[y], `${path}/${pos++}`, ops);
    i = x + 1;
    j = y + 1;
  }
}

/** Index pairs of a longest common subsequence of two key lists, in order. */
function align(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
    }
  }
  const pairs: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m;) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}
