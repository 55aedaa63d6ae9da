import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.js';
import { errorMessage } from '../../errors.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import type { SyncSource } from './sync-status.js';
import { shortName, type TypeUrl } from '../../xds/type-urls.js';
import { setVersion, type ResourceSet } from '../wire/resource.js';
import type { Generator } from '../translate/generator.js';
import type { XdsMetrics } from '../metrics/xds-metrics.js';
import type { Reappearance } from './reappearance.js';

/**
 * What a stream handler needs from the server: the current generator, the
 * logger and metrics, nonces. Streams never hold the generator: they ask for
 * it on each response so a push that swapped it is always seen.
 */
export interface StreamContext {
  generator(): Generator;
  /** setVersion of a set returned by the current generator (memoised per generator). */
  versionOf(set: ResourceSet): string;
  readonly log: Logger;
  readonly metrics: XdsMetrics;
  nonce(): string;
  /** The node's memory of LDS/CDS removals (SotW streams respell what reappears). */
  reappearance(nodeId: string): Reappearance;
  /** Called once the stream's first request (with its node) arrived. */
  connected(c: PushTarget): void;
  disconnected(c: PushTarget): void;
}

/** A connected proxy as the server's push loop and debug endpoints see it. */
export interface PushTarget extends SyncSource {
  /** Sends what changed since the last response of each type; returns responses sent. */
  push(started: number): number;
  /** Ends the stream (server shutdown). */
  close(): void;
}

/** Nonces unique across server restarts: a random prefix per process plus a counter. */
export function nonceFactory(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}

/**
 * setVersion, memoised on the set object: generators hand the same set to
 * every proxy in a scope, so 1,000 proxies cost one hash. One memo per
 * generator (a new one on every setGenerator), so a set object reused and
 * changed across pushes can never hide a change.
 */
export function versionMemo(): (set: ResourceSet) => string {
  const versions = new WeakMap<ResourceSet, string>();
  return (set) => {
    let v = versions.get(set);
    if (v === undefined) {
      v = setVersion(set);
      versions.set(set, v);
    }
    return v;
  };
}

/** Lower-case short type name for metric labels ("cds", "lds", ...). */
export function typeLabel(url: TypeUrl): string {
  return shortName[url].toLowerCase();
}

/** Runs the generator, turning a throw into a logged internal error (undefined). */
export function generateSafely(
  ctx: StreamContext,
  node: ProxyNode,
  typeUrl: TypeUrl,
  names: ReadonlySet<string> | undefined,
): ResourceSet | undefined {
  try {
    return ctx.generator().generate(node, typeUrl, names);
  } catch (err) {
    ctx.metrics.internalErrors.inc();
    ctx.log.error('generate failed', { proxy: node.id, type: shortName[typeUrl], error: errorMessage(err) });
    return undefined;
  }
}

/** Total bytes of the resources in a response, for pilot_xds_config_size_bytes. */
export function sizeOf(set: Iterable<{ any: { value: Uint8Array } }>): number {
  let n = 0;
  for (const r of set) n += r.any.value.byteLength;
  return n;
}
