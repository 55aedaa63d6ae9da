import { createHash } from 'node:crypto';
import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
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
  /** The decoded message, for config_dump and tests. */
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
  const value = toBinary(schema, message);
  const typeUrl = `type.googleapis.com/${schema.typeName}`;
  const version = createHash('sha1').update(value).digest('base64url').slice(0, 16);
  const res: XdsResource = { name, typeUrl, version, any: create(AnySchema, { typeUrl, value }), message };
  packed.set(message, res);
  return res;
}

/** A version for a whole set: stable for equal contents, independent of insertion order. */
export function setVersion(set: ResourceSet): string {
  const h = createHash('sha1');
  for (const name of [...set.keys()].sort()) h.update(name).update('\0').update(set.get(name)!.version).update('\n');
  return h.digest('base64url').slice(0, 16);
}
