/**
 * RouteConfiguration encoding by parts (parts-encoding.ts): a sidecar's
 * route configuration is ~1,000 virtual hosts, most of them the same objects
 * in every namespace's configuration (translate/routes/vhost-memo.ts), so
 * each is encoded once (and hashed once). Same bytes as toBinary.
 * (Load assignments were tried too: they are small, one locality of a few
 * endpoints, and splitting them cost more than encoding them whole.)
 */
import { RouteConfigurationSchema, type RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import { createHash } from 'node:crypto';
import { encodeWithParts, memoEncoder, type PartsEncoding } from './parts-encoding.js';
import { packedResource, resourceFromBytes, sha1, type XdsResource } from './resource.js';

const virtualHostBytes = memoEncoder(VirtualHostSchema);
const partDigests = new WeakMap<Uint8Array, string>();
const encodings = new WeakMap<XdsResource, PartsEncoding>();

/** toBinary(RouteConfigurationSchema, rc), reusing the encoding of virtual hosts seen before. */
export function encodeRouteConfiguration(rc: RouteConfiguration): Uint8Array {
  return encodeWithParts(RouteConfigurationSchema, rc, 'virtualHosts', virtualHostBytes).bytes;
}

function digest(b: Uint8Array): string {
  let d = partDigests.get(b);
  if (d === undefined) partDigests.set(b, (d = sha1(b)));
  return d;
}

/**
 * The version of an encoding by parts: sha1 over the head, the tail (each
 * with its length) and the sha1 of each part (27 base64url characters, a
 * fixed length, so the sequence is unambiguous), in order: a hash tree of
 * one level, as collision-resistant as sha1 of the whole. Each shared
 * virtual host is hashed once instead of once per namespace (~10 MB less to
 * hash for 1,000 services in 10 namespaces). Deterministic: equal config,
 * equal version.
 */
function partsVersion(e: PartsEncoding): string {
  const h = createHash('sha1');
  const len = Buffer.alloc(8);
  len.writeUInt32BE(e.head.length, 0);
  len.writeUInt32BE(e.tail.length, 4);
  h.update(len).update(e.head).update(e.tail);
  for (const p of e.parts) h.update(digest(p));
  return h.digest('base64url').slice(0, 16);
}

/** toResource for a RouteConfiguration, encoded by parts: same bytes as toResource; the version is partsVersion. */
export function routeConfigResource(name: string, rc: RouteConfiguration): XdsResource {
  const hit = packedResource(rc);
  if (hit && hit.name === name) return hit;
  const e = encodeWithParts(RouteConfigurationSchema, rc, 'virtualHosts', virtualHostBytes);
  const r = resourceFromBytes(RouteConfigurationSchema, name, rc, e.bytes, partsVersion(e));
  encodings.set(r, e);
  return r;
}

/**
 * How a route configuration resource was encoded: its virtual hosts' bytes
 * are the same Uint8Array objects in every configuration sharing them, so a
 * reader memoising on them (snapshot/references.ts) reads each once.
 */
export function routeConfigParts(r: XdsResource): PartsEncoding | undefined {
  return encodings.get(r);
}
