/**
 * Protobuf encoding by parts. A message's encoding is the concatenation of
 * its fields' encodings, and protobuf-es writes fields in field-number order.
 * So for a message whose field 2 is a repeated message field and whose only
 * lower field is field 1:
 *   toBinary(m) = field 1 ‖ (tag 2, length, part bytes) for each element ‖ fields ≥ 3
 * which lets large messages reuse the bytes of elements shared with other
 * messages (a virtual host in every namespace's route configuration, an
 * endpoint in the default and subset load assignments). Tests compare the
 * result with a plain toBinary of the whole message.
 */
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';

interface Layout {
  /** localName of field 1, if any. */
  head: string | undefined;
  list: string;
}

const layouts = new WeakMap<DescMessage, Layout | null>();

/** The layout if `schema` fits (field 2 = `list`, repeated message; everything else ≥ 3 but field 1), else null. */
function layoutOf(schema: DescMessage, list: string): Layout | null {
  let l = layouts.get(schema);
  if (l !== undefined) return l?.list === list ? l : null;
  const f2 = schema.fields.find((f) => f.number === 2);
  const f1 = schema.fields.find((f) => f.number === 1);
  const ok = f2 !== undefined && f2.localName === list && f2.fieldKind === 'list' && f2.listKind === 'message' &&
    schema.fields.every((f) => f.number >= 1) && (f1 === undefined || f1.oneof === undefined);
  l = ok ? { head: f1?.localName, list } : null;
  layouts.set(schema, l);
  return l;
}

function varintLength(n: number): number {
  let len = 1;
  for (; n >= 0x80; n = Math.floor(n / 128)) len++;
  return len;
}

function writeVarint(buf: Uint8Array, at: number, n: number): number {
  for (; n >= 0x80; n = Math.floor(n / 128)) buf[at++] = (n % 128) | 0x80;
  buf[at++] = n;
  return at;
}

const listTag = (2 << 3) | WireType.LengthDelimited;
type Fields = Record<string, unknown>;

/** A message encoded by parts: `bytes` is the whole; `head`, `parts` and `tail` are what it was assembled from. */
export interface PartsEncoding {
  bytes: Uint8Array;
  head: Uint8Array;
  parts: Uint8Array[];
  tail: Uint8Array;
}

/**
 * toBinary(schema, message), with the elements of repeated field 2 (`list`)
 * encoded by `part` (typically memoised). Falls back to toBinary (one part:
 * the whole, as `tail`) when the schema does not have that layout or the
 * message carries unknown fields. One allocation of the exact size for the result.
 */
export function encodeWithParts<D extends DescMessage>(schema: D, message: MessageShape<D>, list: string, part: (element: never) => Uint8Array): PartsEncoding {
  const layout = layoutOf(schema, list);
  const m = message as unknown as Fields & { $unknown?: unknown };
  if (layout === null || m.$unknown !== undefined) {
    const bytes = toBinary(schema, message);
    return { bytes, head: new Uint8Array(0), parts: [], tail: bytes };
  }
  const { head, tail } = headAndTail(schema, m, layout);
  const parts = (m[list] as never[]).map(part);
  const out = new Uint8Array(head.length + blockSize(parts) + tail.length);
  out.set(head, 0);
  const at = writeBlock(out, head.length, parts);
  out.set(tail, at);
  return { bytes: out, head, parts, tail };
}

const sharedLists = new WeakSet<object>();
const blocks = new WeakMap<object, Uint8Array>();

/**
 * Marks an array that many messages carry as their list (every proxy of a
 * scope is sent the same resources): encodeWithSharedList encodes its
 * elements once, as one block. The array must not change afterwards.
 */
export function shareList<T extends object>(items: T[]): T[] {
  sharedLists.add(items);
  return items;
}

/**
 * encodeWithParts' bytes; when the list is a shared one (shareList), its
 * elements' encoding is one block kept with the array, so each message costs
 * one copy of the block instead of assembling thousands of parts again.
 */
export function encodeWithSharedList<D extends DescMessage>(schema: D, message: MessageShape<D>, list: string, part: (element: never) => Uint8Array): Uint8Array {
  const layout = layoutOf(schema, list);
  const m = message as unknown as Fields & { $unknown?: unknown };
  const items = m[list] as never[];
  if (layout === null || m.$unknown !== undefined || !sharedLists.has(items)) return encodeWithParts(schema, message, list, part).bytes;
  let block = blocks.get(items);
  if (block === undefined) {
    const parts = items.map(part);
    block = new Uint8Array(blockSize(parts));
    writeBlock(block, 0, parts);
    blocks.set(items, block);
  }
  const { head, tail } = headAndTail(schema, m, layout);
  const out = new Uint8Array(head.length + block.length + tail.length);
  out.set(head, 0);
  out.set(block, head.length);
  out.set(tail, head.length + block.length);
  return out;
}

/** Field 1 alone, and every field but 1 and the list: what comes before and after the list's bytes. */
function headAndTail<D extends DescMessage>(schema: D, m: Fields, layout: Layout): { head: Uint8Array; tail: Uint8Array } {
  let head = new Uint8Array(0);
  if (layout.head !== undefined) {
    const only = create(schema) as unknown as Fields;
    only[layout.head] = m[layout.head];
    head = toBinary(schema, only as MessageShape<D>);
  }
  const rest: Fields = { ...m, [layout.list]: [] };
  if (layout.head !== undefined) rest[layout.head] = (create(schema) as unknown as Fields)[layout.head];
  return { head, tail: toBinary(schema, rest as MessageShape<D>) };
}

function blockSize(parts: readonly Uint8Array[]): number {
  let size = 0;
  for (const p of parts) size += 1 + varintLength(p.length) + p.length;
  return size;
}

/** Each part as field 2 (tag, length, bytes) from `at`; returns the end. */
function writeBlock(out: Uint8Array, at: number, parts: readonly Uint8Array[]): number {
  for (const p of parts) {
    out[at++] = listTag;
    at = writeVarint(out, at, p.length);
    out.set(p, at);
    at += p.length;
  }
  return at;
}

/** toBinary for one schema, memoised per message object (messages are not mutated once built). */
export function memoEncoder<D extends DescMessage>(schema: D): (message: MessageShape<D>) => Uint8Array {
  const memo = new WeakMap<object, Uint8Array>();
  return (message) => {
    let b = memo.get(message);
    if (b === undefined) memo.set(message, (b = toBinary(schema, message)));
    return b;
  };
}
