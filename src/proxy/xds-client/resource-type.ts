/**
 * The resource-type table shared by the proxy's xDS client (grpc-js-xds's
 * structure): for each type URL, how to decode and validate a resource, and
 * which resources of other types it depends on (LDS → RDS/SDS, CDS → EDS/SDS).
 */
import type { Any } from '@bufbuild/protobuf/wkt';

/** Result of decoding one resource: a compiled value, or every problem found with its field path. */
export type Decoded<T> =
  | { ok: true; name: string; value: T }
  | { ok: false; name: string; errors: string[] };

export interface ResourceType<T = unknown> {
  readonly typeUrl: string;
  /** "LDS", "RDS", ... for logs and error details. */
  readonly short: string;
  /** Listener and Cluster: an empty subscription means all resources. */
  readonly wildcard: boolean;
  /** Decodes the Any, validates it and compiles it for use; never throws. */
  decode(any: Any): Decoded<T>;
  /**
   * Resources of other types these reference (LDS → RDS and SDS, CDS → EDS and SDS): the client
   * subscribes to the union of what every referencing type names.
   */
  readonly dependencies?: readonly Dependency<T>[];
}

export interface Dependency<T = unknown> {
  readonly typeUrl: string;
  names(values: Iterable<T>): Set<string>;
}

/** One accepted resource as the client holds it (also what /config_dump shows). */
export interface AppliedResource<T = unknown> {
  name: string;
  version: string;
  value: T;
  raw: Any;
  lastUpdated: Date;
}

/**
 * What puts one resource type's accepted updates in service (grpc-js-xds registers a resource type with
 * its handling the same way): `apply` receives the complete current set of the type, typed by it. A
 * returned promise delays the ACK until it settles; a string it resolves with is the NACK's error detail.
 */
export interface TypeHandler<T = unknown> {
  readonly type: ResourceType<T>;
  apply(resources: ReadonlyMap<string, AppliedResource<T>>): void | Promise<string | undefined>;
}

/** A handler for `type`, its resources typed by it. */
export function handler<T>(type: ResourceType<T>, apply: (resources: ReadonlyMap<string, AppliedResource<T>>) => void | Promise<string | undefined>): TypeHandler<T> {
  return { type, apply };
}

/** grpc-js-xds's watcher: one resource by name, three outcomes. */
export interface ResourceWatcher<T = unknown> {
  /** The resource was added or changed (also called once on watch() when it is already known). */
  onChanged(value: T, resource: AppliedResource<T>): void;
  /** An update for this type was rejected; the last good value stays in force. */
  onError(detail: string): void;
  /** The resource was removed, or the server does not have it. */
  onDoesNotExist(): void;
}
