/**
 * Several sources as one, in order, the way `kubectl apply -f A -f B`
 * applies them: an object defined by more than one source is taken from the
 * last (logged once, not a problem — within one source a duplicate stays a
 * conflict). `trellis up` relies on this: its runtime directory, given last,
 * holds the pods as a cluster stores them (with the injector's changes and
 * the kubelet's status), which replace a bare Pod of the user's directory.
 */
import { objectKey, type AnyObject } from '../../config/objects.js';
import { TrellisError } from '../../errors.js';
import { logger } from '../../log.js';
import type { ConfigSource, ConfigState } from './source.js';

const log = logger('config');

export class UnionSource implements ConfigSource {
  readonly #sources: readonly ConfigSource[];
  readonly #latest: (ConfigState | undefined)[];
  #onState: ((state: ConfigState) => void) | undefined;
  #revision = 0;
  #overridden = new Set<string>();

  constructor(sources: readonly ConfigSource[]) {
    if (sources.length === 0) throw new TrellisError('CONFIG_SOURCE', 'a union of config sources needs at least one');
    this.#sources = sources;
    this.#latest = sources.map(() => undefined);
  }

  /** Starts every source in order; the first merged state is delivered once all have delivered theirs. */
  async start(onState: (state: ConfigState) => void): Promise<void> {
    if (this.#onState) throw new TrellisError('CONFIG_SOURCE', 'union source already started');
    this.#onState = onState;
    try {
      for (const [i, s] of this.#sources.entries()) {
        await s.start((state) => {
          this.#latest[i] = state;
          if (this.#latest.every((x) => x !== undefined)) this.#deliver();
        });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#sources.map((s) => s.stop().catch(() => undefined)));
  }

  #deliver(): void {
    const states = this.#latest as ConfigState[];
    const merged = mergeStates(states);
    for (const key of merged.overridden) {
      if (!this.#overridden.has(key)) log.info('object defined in several config directories: the last one applies', { object: key });
    }
    this.#overridden = new Set(merged.overridden);
    this.#revision += 1;
    this.#onState?.({ objects: merged.objects, problems: merged.problems, revision: this.#revision });
  }
}

/** Pure: the later state's object wins a key; problems are concatenated in source order. */
export function mergeStates(states: readonly ConfigState[]): { objects: ReadonlyMap<string, AnyObject>; problems: ConfigState['problems']; overridden: string[] } {
  const objects = new Map<string, AnyObject>();
  const overridden: string[] = [];
  for (const s of states) {
    for (const [key, o] of s.objects) {
      if (objects.has(key)) overridden.push(objectKey(o));
      objects.set(key, o);
    }
  }
  const sorted = new Map([...objects.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  return { objects: sorted, problems: states.flatMap((s) => s.problems), overridden };
}
