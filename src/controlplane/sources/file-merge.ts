/**
 * Pure functions of the directory source: what one file contributes given its
 * previous contribution (last good config), and how files are merged into one
 * state (conflicts: the lexicographically first file, then first document, wins).
 */
import { objectKey, type AnyObject, type Origin } from '../../config/objects.js';
import { fileProblems, type LoadedFile } from '../../config/load-config.js';
import type { ConfigProblem } from '../../config/config-problem.js';
import { isDeepStrictEqual } from 'node:util';

/** The accepted objects of one file (in document order) and its problems. */
export interface FileContribution {
  readonly objects: readonly AnyObject[];
  readonly problems: readonly ConfigProblem[];
  /** False when the file has never been read successfully; then nothing is kept on a syntax error. */
  readonly parsedOnce: boolean;
}

/**
 * What a file contributes now. A syntax error keeps the previous objects of
 * the file; an invalid document keeps the previous version of the same object
 * (same key, same file); objects never seen valid are skipped.
 */
export function acceptFile(prev: FileContribution | undefined, loaded: LoadedFile): FileContribution {
  if (loaded.syntaxError && prev?.parsedOnce) {
    const kept = ` (keeping the last good version of this file: ${prev.objects.length} object(s))`;
    const problems = fileProblems(loaded).map((p) => (p.code === 'CONFIG_PARSE' ? { ...p, reason: p.reason + kept } : p));
    const now = new Map(loaded.documents.flatMap((d) => (d.key === undefined ? [] : [[d.key, d.origin] as const])));
    return { objects: prev.objects.map((o) => reanchor(o, now.get(objectKey(o)), loaded.lines)), problems, parsedOnce: true };
  }
  const previous = new Map((prev?.objects ?? []).map((o) => [objectKey(o), o]));
  const objects: AnyObject[] = [];
  const problems: ConfigProblem[] = [...loaded.parseProblems];
  for (const doc of loaded.documents) {
    if (doc.object) {
      objects.push(doc.object);
      continue;
    }
    const old = doc.key === undefined ? undefined : previous.get(doc.key);
    if (old) objects.push(reanchor(old, doc.origin, loaded.lines));
    const note = old ? ' (keeping the previous version)' : '';
    for (const p of doc.problems) problems.push({ ...p, reason: p.reason + note });
  }
  return { objects, problems, parsedOnce: !loaded.syntaxError || (prev?.parsedOnce ?? false) };
}

/**
 * A kept last good version gets the place of its document in the current
 * text (`now`, the document with the same key), so that a conflict or an
 * analysis finding about it points into the file as it is, not at lines that
 * may no longer exist. Without such a document (its YAML is broken) the old
 * start line is kept, within the file's current length.
 */
function reanchor(o: AnyObject, now: Origin | undefined, lines: number): AnyObject {
  if (now !== undefined) return { ...o, origin: now } as AnyObject;
  if (o.origin === undefined) return o;
  return { ...o, origin: { file: o.origin.file, line: Math.min(o.origin.line, lines) } } as AnyObject;
}

/** A file that cannot be read keeps what it had, with a problem saying why. */
export function unreadableFile(prev: FileContribution | undefined, file: string, reason: string): FileContribution {
  const problem: ConfigProblem = { code: 'CONFIG_PARSE', file, line: 1, reason: `cannot read file: ${reason}` };
  return { objects: prev?.objects ?? [], problems: [problem], parsedOnce: prev?.parsedOnce ?? false };
}

/**
 * A file re-read with other bytes may still mean the same (a comment edited
 * in place) or change one object of many. Equal objects keep their previous
 * identity, which the control plane compares first (registry/state-change.ts,
 * metrics/config-events.ts); when nothing differs the previous contribution
 * itself is returned, so the caller knows by identity that nothing changed.
 */
export function keepUnchanged(prev: FileContribution, next: FileContribution): FileContribution {
  const before = new Map(prev.objects.map((o) => [objectKey(o), o]));
  let same = prev.objects.length === next.objects.length && prev.parsedOnce === next.parsedOnce;
  const objects = next.objects.map((o, i) => {
    const old = before.get(objectKey(o));
    const kept = old !== undefined && isDeepStrictEqual(old, o) ? old : o;
    same &&= kept === prev.objects[i];
    return kept;
  });
  if (same && isDeepStrictEqual(prev.problems, next.problems)) return prev;
  return { ...next, objects };
}

/** Whether two merged states are the same: objects by identity (unchanged files keep theirs), problems by value. */
export function sameMerged(a: MergedConfig, b: MergedConfig): boolean {
  if (a.objects === b.objects) return isDeepStrictEqual(a.problems, b.problems);
  if (a.objects.size !== b.objects.size) return false;
  for (const [key, o] of a.objects) if (b.objects.get(key) !== o) return false;
  return isDeepStrictEqual(a.problems, b.problems);
}

export interface MergedConfig {
  /** By objectKey, sorted by key. */
  readonly objects: ReadonlyMap<string, AnyObject>;
  /** Sorted by file then line. */
  readonly problems: readonly ConfigProblem[];
}

/** Merges contributions; `files` must be sorted by path (the conflict order). */
export function mergeFiles(files: readonly (readonly [string, FileContribution])[]): MergedConfig {
  const winners = new Map<string, AnyObject>();
  const problems: ConfigProblem[] = [];
  for (const [file, contribution] of files) {
    problems.push(...contribution.problems);
    for (const o of contribution.objects) {
      const key = objectKey(o);
      const winner = winners.get(key);
      if (winner === undefined) {
        winners.set(key, o);
        continue;
      }
      problems.push(conflictProblem(o, winner, file));
    }
  }
  const objects = new Map([...winners.entries()].sort(byKey));
  const rank = new Map(files.map(([f], i) => [f, i]));
  const order = (p: ConfigProblem) => rank.get(p.file) ?? files.length;
  problems.sort((a, b) => order(a) - order(b) || a.line - b.line);
  return { objects, problems };
}

/** `o` (from `file`) has the key of `winner`, which comes first: it is ignored. */
export function conflictProblem(o: AnyObject, winner: AnyObject, file: string): ConfigProblem {
  const ns = o.metadata.namespace === undefined ? '' : `${o.metadata.namespace}/`;
  const at = winner.origin ? `${winner.origin.file}:${winner.origin.line}` : 'another source';
  return {
    code: 'CONFIG_CONFLICT',
    file: o.origin?.file ?? file,
    line: o.origin?.line ?? 1,
    reason: `${o.kind} ${ns}${o.metadata.name} is also defined at ${at}; this one is ignored`,
  };
}

/** Orders [key, value] entries by key (code units, as the rest of the state is ordered). */
export function byKey(a: readonly [string, unknown], b: readonly [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
