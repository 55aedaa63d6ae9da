import crypto, { createHash } from 'node:crypto';
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';

/**
 * One named resource ready for the wire: its Any (serialised once) and a
 * version that is a hash of those bytes, so equal config gives equal
 * versions and an unchanged resource is never re-sent.
 */
export interface XdsResource {
  readonly name: string;
  readonly typeUrl: string;
  readonly version: string;
  readonly any: Any;
  /**
   * The decoded message, for config_dump and tests: decoded from `any` on
   * first read (equal content to what was encoded, not the same object), so
   * that the translated messages themselves are not kept alive for the
   * resource's lifetime.
   */
  readonly message: unknown;
}

/** Resources of one type for one proxy, by name. */
export type ResourceSet = ReadonlyMap<string, XdsResource>;

const packed = new WeakMap<object, XdsResource>();

/**
 * Serialises a message into an XdsResource. Memoised on the message object:
 * translators that share one message across many proxies pay for encoding
 * and hashing once.
 */
export function toResource<D extends DescMessage>(schema: D, name: string, message: MessageShape<D>): XdsResource {
  const hit = packed.get(message);
  if (hit && hit.name === name) return hit;
  return resourceFromBytes(schema, name, message, toBinary(schema, message));
}

/**
 * sha1 of the encoding: cheap next to encoding, and collision-resistant
 * enough that equal versions mean equal bytes (96 bits kept).
 */
function bytesVersion(value: Uint8Array): string {
  return sha1(value).slice(0, 16);
}

/** Node ≥ 20.12 has a one-shot crypto.hash, a few µs cheaper per call than createHash (16,000 resources per push). */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'base64url') => string }).hash;

/** sha1 of `data`, base64url. */
export function sha1(data: Uint8Array): string {
  return oneShot !== undefined ? oneShot('sha1', data, 'base64url') : createHash('sha1').update(data).digest('base64url');
}

/** The resource already made from this message object, if any. */
export function packedResource(message: object): XdsResource | undefined {
  return packed.get(message);
}

/**
 * An XdsResource from bytes the caller encoded itself (e.g. assembled from
 * memoised parts); `value` must equal toBinary(schema, message), and a
 * `version` given must be a deterministic, collision-resistant function of
 * those bytes. Memoised on the message object like toResource.
 */
export function resourceFromBytes<D extends DescMessage>(schema: D, name: string, message: MessageShape<D>, value: Uint8Array, version = bytesVersion(value)): XdsResource {
  const typeUrl = `type.googleapis.com/${schema.typeName}`;
  const res = new PackedResource(schema, name, typeUrl, version, create(AnySchema, { typeUrl, value }));
  packed.set(message, res);
  return res;
}

/**
 * Holds the bytes, not the message: 1,000 services make ~16,000 resources
 * whose messages (protobuf-es objects with every field present) would
 * otherwise all survive into the old generation, and copying survivors is
 * what young-generation GC spends its time on.
 */
class PackedResource implements XdsResource {
  readonly #schema: DescMessage;
  #message: unknown;

  constructor(
    schema: DescMessage,
    readonly name: string,
    readonly typeUrl: string,
    readonly version: string,
    readonly any: Any,
  ) {
    this.#schema = schema;
  }

  get message(): unknown {
    return (this.#message ??= fromBinary(this.#schema, this.any.value));
  }
}

/** A version for a whole set: stable for equal contents, independent of insertion order. */
export function setVersion(set: ResourceSet): string {
  const h = createHash('sha1');
  for (const name of [...set.keys()].sort()) h.update(name).update('\0').update(set.get(name)!.version).update('\n');
  return h.digest('base64url').slice(0, 16);
}
