/**
 * The line of every field of an object read from YAML. It travels with the
 * object (Origin.fields) because problems are also found after loading —
 * conflicts between files, references to things that do not exist — and
 * those must point at the exact line of a nested field too, e.g.
 * spec.http[1].route[0].destination.subset.
 *
 * It is plain data on purpose: a source compares states by value, so an edit
 * that only moves lines (a comment added above) still changes the state and
 * the lines reported follow it.
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';

/** A field path inside one object: map keys and sequence indexes. */
export type FieldPath = readonly (string | number)[];

/**
 * A scalar field's line, or a collection's line with its children's lines
 * (by key for a mapping, by index for a sequence). The line of a map field is
 * the line of its key; that of a sequence item is where the item starts.
 */
export type FieldLines = number | readonly [line: number, children: Readonly<Record<string, FieldLines>> | readonly FieldLines[]];

/** Records the lines of `node` and everything below it; `line` is the node's own line. */
export function recordLines(node: unknown, line: number, lineOf: (offset: number) => number): FieldLines {
  if (isMap(node)) {
    // No prototype: a YAML key may be "__proto__" or "constructor".
    const children: Record<string, FieldLines> = Object.create(null) as Record<string, FieldLines>;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyOffset = (pair.key as Node | null)?.range?.[0];
      children[key] = recordLines(pair.value, keyOffset === undefined ? line : lineOf(keyOffset), lineOf);
    }
    return [line, children];
  }
  if (isSeq(node)) {
    const items = node.items.map((item) => {
      const offset = (item as Node | null)?.range?.[0];
      return recordLines(item, offset === undefined ? line : lineOf(offset), lineOf);
    });
    return [line, items];
  }
  return line;
}

/**
 * The line of the field at `path`, or of its deepest parent that exists
 * (a missing field is reported where it should have been). `fallback` is
 * used when no lines were recorded (objects that did not come from YAML).
 */
export function lineAt(lines: FieldLines | undefined, fallback: number, path: FieldPath): number {
  if (lines === undefined) return fallback;
  let node: FieldLines = lines;
  for (const seg of path) {
    if (typeof node === 'number') break;
    const children: Readonly<Record<string, FieldLines>> | readonly FieldLines[] = node[1];
    const next: FieldLines | undefined = Array.isArray(children)
      ? typeof seg === 'number'
        ? (children as readonly FieldLines[])[seg]
        : undefined
      : Object.hasOwn(children, String(seg))
        ? (children as Readonly<Record<string, FieldLines>>)[String(seg)]
        : undefined;
    if (next === undefined) break;
    node = next;
  }
  return typeof node === 'number' ? node : node[0];
}

/** The line of a field of a loaded object: exact when the object came from YAML, else the object's line. */
export function fieldLine(origin: { line: number; fields?: FieldLines } | undefined, path: FieldPath): number {
  return lineAt(origin?.fields, origin?.line ?? 1, path);
}
