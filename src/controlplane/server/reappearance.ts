/**
 * Why: @grpc/grpc-js-xds (1.14.1, and its master as of 2026-04) keeps the
 * last copy of a Listener or Cluster after a SotW response said it no longer
 * exists (AdsCallState.handleResponseMessage marks it DOES_NOT_EXIST but
 * leaves `cachedResource`), and AdsResponseParser.parseResource drops a later
 * copy that decodes deep-equal to that cache without telling any watcher. A
 * listener removed and then restored unchanged therefore never reaches the
 * channel again: it stays UNAVAILABLE until the listener's content changes.
 * grpc-go and gRPC C++ drop the cache on deletion; see
 * docs/upstream/grpc-js-xds-reappearing-resource.md.
 *
 * What the server does: it remembers, per node id, the LDS/CDS names a SotW
 * stream was told are gone, and when such a name reappears it is sent in a
 * new, equivalent spelling (respell.ts) that no client can have cached. For
 * a correct client the reappearing resource is a fresh add anyway, so the
 * spelling costs nothing. Kept per node id, not per stream, because the
 * client's cache outlives its stream: a reconnect between the removal and
 * the return must still get the new spelling.
 */
import { TypeUrl } from '../../xds/type-urls.js';
import type { ResourceSet, XdsResource } from '../wire/resource.js';
import { respell } from './respell.js';

/** The SotW types whose omission from a response means "deleted" to a client. */
const deletable: ReadonlySet<string> = new Set([TypeUrl.Listener, TypeUrl.Cluster]);

interface NameState {
  /** Spelling in use (0 = as generated). */
  generation: number;
  /** The node was told the name is gone and has not been sent it since. */
  removed: boolean;
}

/** What one stream uses: its node's memory. */
export interface Reappearance {
  /** Records names that `sent` dropped and that the client still subscribes to. */
  removed(type: string, names: Iterable<string>): void;
  /** The set to send: reappeared resources in their current spelling (the same object when there are none). */
  spell(type: string, set: ResourceSet): ResourceSet;
}

/**
 * The server's memory of removals, by node id. Bounded: the least recently
 * touched node is forgotten first; a stream keeps the memory it started with.
 */
export class ReappearanceMemo {
  readonly #nodes = new Map<string, Map<string, NameState>>();

  constructor(readonly maxNodes = 10_000) {}

  forNode(nodeId: string): Reappearance {
    let names = this.#nodes.get(nodeId);
    return {
      removed: (type, dropped) => {
        if (!deletable.has(type)) return;
        for (const name of dropped) {
          names = this.#touch(nodeId, names);
          const key = `${type} ${name}`;
          const s = names.get(key);
          if (s) s.removed = true;
          else names.set(key, { generation: 0, removed: true });
        }
      },
      spell: (type, set) => {
        names ??= this.#nodes.get(nodeId);
        if (names === undefined || !deletable.has(type)) return set;
        return spellSet(type, set, names);
      },
    };
  }

  /** The node's map (the stream's own if it has one), stored at the young end. */
  #touch(nodeId: string, known: Map<string, NameState> | undefined): Map<string, NameState> {
    const names = known ?? this.#nodes.get(nodeId) ?? new Map<string, NameState>();
    this.#nodes.delete(nodeId);
    this.#nodes.set(nodeId, names);
    if (this.#nodes.size > this.maxNodes) this.#nodes.delete(this.#nodes.keys().next().value!);
    return names;
  }
}

function spellSet(type: string, set: ResourceSet, names: Map<string, NameState>): ResourceSet {
  let out: Map<string, XdsResource> | undefined;
  for (const [name, r] of set) {
    const s = names.get(`${type} ${name}`);
    if (s === undefined) continue;
    // Back after a removal: a spelling the client has never been sent.
    if (s.removed) {
      s.generation += 1;
      s.removed = false;
    }
    const spelled = respell(r, s.generation);
    if (spelled === r) continue;
    out ??= new Map(set);
    out.set(name, spelled);
  }
  return out ?? set;
}
