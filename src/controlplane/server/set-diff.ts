import type { ResourceSet, XdsResource } from '../wire/resource.js';
import { shareList } from '../wire/parts-encoding.js';

/** What a client holding some versions must be sent to hold a set: the resources it lacks or has another version of, and the names it has that the set lacks. */
export interface SetDiff {
  readonly changed: readonly XdsResource[];
  readonly removed: readonly string[];
}

const versionMaps = new WeakMap<ResourceSet, ReadonlyMap<string, string>>();

/** Name → version of a set, shared by every stream whose client holds exactly that set (1,000 proxies × 12,000 names). */
export function versionsOf(set: ResourceSet): ReadonlyMap<string, string> {
  let v = versionMaps.get(set);
  if (!v) versionMaps.set(set, (v = new Map([...set.values()].map((r) => [r.name, r.version]))));
  return v;
}

const diffs = new WeakMap<ReadonlyMap<string, string>, WeakMap<ResourceSet, SetDiff>>();

/**
 * The difference between what a client holds and a set. Memoised on both
 * identities: after a push, every proxy of a scope held the same shared
 * versions map and is sent the same new set, so a one-endpoint change is
 * compared once per scope, not once per proxy.
 */
export function diffFrom(has: ReadonlyMap<string, string>, set: ResourceSet): SetDiff {
  let bySet = diffs.get(has);
  if (!bySet) diffs.set(has, (bySet = new WeakMap()));
  let d = bySet.get(set);
  if (!d) {
    const changed: XdsResource[] = [];
    for (const r of set.values()) if (has.get(r.name) !== r.version) changed.push(r);
    const removed: string[] = [];
    for (const n of has.keys()) if (!set.has(n)) removed.push(n);
    bySet.set(set, (d = { changed, removed }));
  }
  return d;
}

/**
 * `wrap` of every resource of a set, as one shared list per set and wrap
 * (parts-encoding.ts shareList): every proxy sent the whole set gets the same
 * list, whose encoding is then made once.
 */
export function wholeList<T extends object>(set: ResourceSet, wrap: (r: XdsResource) => T, memo: WeakMap<ResourceSet, T[]>): T[] {
  let list = memo.get(set);
  if (!list) memo.set(set, (list = shareList([...set.values()].map(wrap))));
  return list;
}
