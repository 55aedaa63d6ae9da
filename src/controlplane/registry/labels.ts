/** Label selector helpers shared by the registry's indexes. */

/** True when every key/value of `selector` is present in `labels` (an empty selector matches everything). */
export function selectorMatches(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

export function isEmpty(o: Readonly<Record<string, unknown>> | undefined): boolean {
  if (!o) return true;
  for (const _ in o) return false;
  return true;
}

/** Compare by a string key; used everywhere for deterministic ordering. */
export function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}
