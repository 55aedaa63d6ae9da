/**
 * Structural mutation of protobuf messages for fuzzing: a walk driven by a
 * list of numbers (fast-check generates and shrinks the list) picks a field,
 * possibly deep, and gives it a hostile value of its own type — extreme
 * numbers, negative durations, unknown enum values, empty and huge strings,
 * bad regexes, unknown typed_config type URLs, random Any bytes, emptied or
 * grown lists. google.protobuf.Any values are unpacked with the registry and
 * mutated inside, so typed_config (HCM, router, fault, TLS contexts) is
 * reached too.
 */
import { create, fromBinary, toBinary, ScalarType, type DescEnum, type DescField, type DescMessage, type Registry } from '@bufbuild/protobuf';
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import type { Any } from '@bufbuild/protobuf/wkt';

/** A deterministic stream of choices; `next(n)` is in [0, n). Ends wrap around; an empty list always answers 0. */
export class Choices {
  #i = 0;
  constructor(readonly values: readonly number[]) {}
  next(n: number): number {
    if (n <= 1 || this.values.length === 0) return 0;
    return this.values[this.#i++ % this.values.length]! % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.next(xs.length)]!;
  }
}

const MAX_DEPTH = 14;
const HUGE = 'a'.repeat(100_000);

/** Strings that mean something to some validator: regexes, formats, addresses, names, paths, type URLs. */
const words = [
  '', ' ', 'a', '*', '.', '/', '-', '~', '%', '\u0000', '\n', 'é😀', HUGE,
  '(a+)+$', '(', '[', '\\', '(?i)abc', '(?P<x>a)', '(a)\\1', '(?=a)', '.*', '^$', '[^/]+', '{1,2}', 'a{99999}', '(.*a){20}',
  '%REQ(:PATH)%', '%START_TIME(%s)%', '%DYNAMIC_METADATA(', '%%', '%RESPONSE_CODE', '%UPSTREAM_HOST% %BYTES_RECEIVED%',
  '127.0.0.1', '::1', '0.0.0.0', '256.0.0.1', 'not-an-ip', 'localhost', 'reviews.default.svc.cluster.local',
  'outbound|9080||reviews.default.svc.cluster.local', 'inbound|9080||', 'default', 'ROOTCA', 'h2', 'http/1.1', 'istio',
  'envoy.filters.http.router', 'envoy.transport_sockets.tls', 'envoy.filters.network.http_connection_manager',
  '/nonexistent/file.pem', '/', '/proc/self/status', '/dev/null', '/etc/hostname',
  'type.googleapis.com/google.protobuf.Empty', 'type.googleapis.com/unknown.Type', 'type.googleapis.com/',
  'spiffe://cluster.local/ns/default/sa/x', 'x-request-id', ':authority', 'Host', 'TLSv1_3', 'ECDHE-RSA-AES128-GCM-SHA256', 'P-256',
];

const ints32 = [0, 1, -1, 2, 7, 80, 1023, 65535, 65536, 2147483647, -2147483648];
const uints32 = [0, 1, 2, 80, 65535, 65536, 4294967295];
const ints64 = [0n, 1n, -1n, 100n, -100n, 315576000000n, 315576000001n, 9223372036854775807n, -9223372036854775808n];
const uints64 = [0n, 1n, 100n, 18446744073709551615n];
const doubles = [0, -0, 1, -1, 0.5, 100.5, 1e308, -1e308, Infinity, -Infinity, NaN];

function bytesValue(c: Choices, typeNames: readonly string[], registry: Registry): Uint8Array {
  switch (c.next(4)) {
    case 0: return new Uint8Array(0);
    case 1: return Uint8Array.from({ length: 1 + c.next(64) }, () => c.next(256));
    case 2: return new TextEncoder().encode(c.pick(words));
    default: {
      // Bytes of some other valid message: well-formed protobuf of the wrong shape.
      const desc = registry.getMessage(c.pick(typeNames));
      return desc ? toBinary(desc, create(desc)) : new Uint8Array([0x0a, 0x00]);
    }
  }
}

function scalarValue(t: ScalarType, c: Choices, ctx: Context): unknown {
  switch (t) {
    case ScalarType.STRING: {
      const w = c.pick(words);
      return c.next(5) === 0 ? w + c.pick(words) : w;
    }
    case ScalarType.BYTES: return bytesValue(c, ctx.typeNames, ctx.registry);
    case ScalarType.BOOL: return c.next(2) === 1;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: return c.pick(doubles);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32: return c.pick(ints32);
    case ScalarType.UINT32:
    case ScalarType.FIXED32: return c.pick(uints32);
    case ScalarType.UINT64:
    case ScalarType.FIXED64: return c.pick(uints64);
    default: return c.pick(ints64);
  }
}

function enumValue(e: DescEnum, c: Choices): number {
  return c.next(3) === 0 ? c.pick([-1, 99, 12345]) : c.pick(e.values).number;
}

interface Context {
  registry: Registry;
  /** Message type names in the registry (typed_config candidates). */
  typeNames: readonly string[];
}

/** A field of some message in the tree: where one mutation lands. */
interface Slot {
  owner: ReflectMessage;
  field: DescField;
  set: boolean;
}

/** An Any whose message was unpacked to be walked into; packed again after the mutation, unless the mutation replaced it. */
interface Unpacked {
  any: Any;
  desc: DescMessage;
  inner: ReflectMessage;
}

const MAX_SLOTS = 20_000;

/** Every field of every message in the tree (typed_config included), in pre-order. */
function collect(r: ReflectMessage, ctx: Context, slots: Slot[], anys: Unpacked[], depth: number): void {
  if (depth > MAX_DEPTH || slots.length > MAX_SLOTS) return;
  if (r.desc.typeName === 'google.protobuf.Any') {
    const any = r.message as Any;
    const desc = ctx.registry.getMessage(any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1));
    if (!desc) return;
    let inner;
    try {
      inner = reflect(desc, fromBinary(desc, any.value));
    } catch {
      return;
    }
    anys.push({ any, desc, inner });
    collect(inner, ctx, slots, anys, depth + 1);
  }
  for (const field of r.fields) {
    const set = r.isSet(field);
    slots.push({ owner: r, field, set });
    if (!set) continue;
    if (field.fieldKind === 'message' && !isWrapper(field.message)) collect(r.get(field) as ReflectMessage, ctx, slots, anys, depth + 1);
    else if (field.fieldKind === 'list' && field.listKind === 'message') for (const m of r.get(field) as ReflectList<ReflectMessage>) collect(m, ctx, slots, anys, depth + 1);
    else if (field.fieldKind === 'map' && field.mapKind === 'message') for (const m of (r.get(field) as ReflectMap<unknown, ReflectMessage>).values()) collect(m, ctx, slots, anys, depth + 1);
  }
}

function newItem(kind: 'message' | 'enum' | 'scalar', f: DescField, c: Choices, ctx: Context): unknown {
  if (kind === 'message') return reflect(f.message!, create(f.message!));
  if (kind === 'enum') return enumValue(f.enum!, c);
  return scalarValue(f.scalar!, c, ctx);
}

function trySet(r: ReflectMessage, f: DescField, value: unknown): void {
  try {
    r.set(f, value);
  } catch {
    // A value of the wrong JS type for this field (e.g. a 64-bit field kept as string): not a mutation.
  }
}

/** google.protobuf.UInt32Value and friends: protobuf-es keeps them as plain values, so they are mutated as scalars. */
function isWrapper(desc: DescMessage): boolean {
  return desc.typeName.startsWith('google.protobuf.') && desc.typeName.endsWith('Value') && desc.fields.length === 1 && desc.fields[0]!.fieldKind === 'scalar';
}

/** Setting an unset scalar to its default encodes nothing: use a value that shows. */
function notDefault(v: unknown, set: boolean, t: ScalarType): unknown {
  if (set || (v !== 0 && v !== 0n && v !== '' && v !== false && !(v instanceof Uint8Array && v.length === 0))) return v;
  if (t === ScalarType.BOOL) return true;
  if (t === ScalarType.STRING) return 'x';
  if (t === ScalarType.BYTES) return Uint8Array.of(1);
  return typeof v === 'bigint' ? 1n : 1;
}

/** Gives the field of `slot` a new value of its kind; an Any field may get a new type URL or new bytes instead. */
function mutateSlot({ owner, field: f, set }: Slot, c: Choices, ctx: Context, replaced: Set<Any>): void {
  try {
    switch (f.fieldKind) {
      case 'scalar':
        // An Any's own type_url or value: keep it as mutated, do not pack the walked message over it.
        if (owner.desc.typeName === 'google.protobuf.Any') replaced.add(owner.message as Any);
        return trySet(owner, f, notDefault(scalarValue(f.scalar, c, ctx), set, f.scalar));
      case 'enum': return trySet(owner, f, enumValue(f.enum, c));
      case 'message': {
        if (isWrapper(f.message)) {
          if (set && c.next(3) === 0) return owner.clear(f);
          return trySet(owner, f, reflect(f.message, create(f.message, { value: scalarValue(f.message.fields[0]!.scalar!, c, ctx) } as never)));
        }
        // Clearing what is not set changes nothing: an unset field is always given a message.
        const ops = f.message.typeName === 'google.protobuf.Any' ? 4 : 2;
        const op = set ? c.next(ops) : 1 + c.next(ops - 1);
        if (op === 0) return owner.clear(f);
        if (op === 1) return trySet(owner, f, reflect(f.message, create(f.message)));
        const any = (owner.isSet(f) ? (owner.get(f) as ReflectMessage).message : create(f.message)) as Any;
        if (op === 2) any.typeUrl = c.next(2) === 0 ? c.pick(words) : `type.googleapis.com/${c.pick(ctx.typeNames)}`;
        else any.value = bytesValue(c, ctx.typeNames, ctx.registry);
        replaced.add(any);
        return trySet(owner, f, reflect(f.message, any as never));
      }
      case 'list': {
        const list = owner.get(f) as ReflectList;
        const op = c.next(3);
        if (op === 0) return list.clear();
        if (op === 1 || list.size === 0) return list.add(newItem(f.listKind, f, c, ctx));
        return list.add(list.get(c.next(list.size)));
      }
      case 'map': {
        const map = owner.get(f) as ReflectMap;
        const keys = [...map.keys()];
        if (keys.length > 0 && c.next(2) === 0) {
          map.delete(c.pick(keys));
          return;
        }
        const key = f.mapKey === ScalarType.STRING ? c.pick(words) : scalarValue(f.mapKey, c, ctx);
        map.set(key, newItem(f.mapKind, f, c, ctx));
        return;
      }
    }
  } catch {
    // as in trySet
  }
}

const typeNamesOf = new WeakMap<Registry, string[]>();

/**
 * `count` mutations of a copy of `bytes` (a `desc` message), each on a field
 * picked uniformly among all fields of all messages in the tree, so deep
 * fields (a route's regex inside a listener's typed_config) are as likely as
 * top-level ones. Returns the new bytes.
 */
export function mutateBytes(desc: DescMessage, bytes: Uint8Array, c: Choices, registry: Registry, count: number): Uint8Array {
  let typeNames = typeNamesOf.get(registry);
  if (!typeNames) typeNamesOf.set(registry, (typeNames = [...registry].filter((t) => t.kind === 'message').map((t) => t.typeName)));
  const ctx = { registry, typeNames };
  const msg = fromBinary(desc, bytes);
  for (let i = 0; i < count; i++) {
    const slots: Slot[] = [];
    const anys: Unpacked[] = [];
    collect(reflect(desc, msg), ctx, slots, anys, 0);
    const replaced = new Set<Any>();
    // Mostly a field the valid message has (changing it is a real change); sometimes any field (setting it is).
    const present = slots.filter((s) => s.set);
    const pool = present.length > 0 && c.next(4) !== 0 ? present : slots;
    if (pool.length > 0) mutateSlot(pool[c.next(pool.length)]!, c, ctx, replaced);
    // Innermost first: pre-order puts an Any before the Anys inside it.
    for (const u of anys.reverse()) if (!replaced.has(u.any)) u.any.value = toBinary(u.desc, u.inner.message);
  }
  return toBinary(desc, msg);
}
