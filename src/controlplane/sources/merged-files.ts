/**
 * mergeFiles kept up to date file by file: a file's new contribution costs
 * its own objects, not the whole tree's (mergeFiles over 1,000 files and
 * ~11,000 objects took ~6 ms per state at 100 file changes/s). The result is
 * what mergeFiles gives for the same files (property test:
 * test/unit/config/merged-files.test.ts).
 */
import { objectKey, type AnyObject } from '../../config/objects.js';
import type { ConfigProblem } from '../../config/config-problem.js';
import { byKey, conflictProblem, type FileContribution, type MergedConfig } from './file-merge.js';

/** One object of one file: `index` is its place in the file (the first of a file wins within it). */
interface Contributor {
  file: string;
  index: number;
  object: AnyObject;
}

interface FileState {
  contribution: FileContribution;
  keys: string[];
}

const contributorOrder = (a: Contributor, b: Contributor) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.index - b.index);

export class MergedFiles {
  readonly #files = new Map<string, FileState>();
  /** Every object with a key, first (the winner) to last. */
  readonly #byKey = new Map<string, Contributor[]>();
  readonly #winners = new Map<string, AnyObject>();
  /** Keys with more than one object, and files with problems of their own: what the problems are made of. */
  readonly #conflicted = new Set<string>();
  readonly #withProblems = new Set<string>();
  #changed = new Set<string>();
  #keysChanged = false;
  #last: MergedConfig | undefined;

  /** Sets (or, with undefined, removes) a file's contribution. `file` is the name problems and origins carry. */
  set(file: string, contribution: FileContribution | undefined): void {
    const old = this.#files.get(file);
    if (old?.contribution === contribution) return;
    for (const key of old?.keys ?? []) {
      const list = this.#byKey.get(key)!;
      list.splice(list.findIndex((c) => c.file === file), 1);
      this.#changed.add(key);
    }
    if (contribution === undefined) {
      this.#files.delete(file);
    } else {
      const keys = contribution.objects.map(objectKey);
      this.#files.set(file, { contribution, keys });
      for (const [index, key] of keys.entries()) this.#insert(key, { file, index, object: contribution.objects[index]! });
    }
    if (contribution !== undefined && contribution.problems.length > 0) this.#withProblems.add(file);
    else this.#withProblems.delete(file);
    for (const key of this.#changed) this.#settle(key);
  }

  /** The merge now; the same objects map as the last result when no key's winner changed. */
  result(): MergedConfig {
    let objects = this.#last?.objects;
    if (objects === undefined || this.#keysChanged) {
      objects = new Map([...this.#winners.entries()].sort(byKey));
    } else if ([...this.#changed].some((k) => objects!.get(k) !== this.#winners.get(k))) {
      const next = new Map(objects);
      for (const key of this.#changed) next.set(key, this.#winners.get(key)!);
      objects = next;
    }
    this.#changed = new Set();
    this.#keysChanged = false;
    this.#last = { objects, problems: this.#problems() };
    return this.#last;
  }

  #insert(key: string, c: Contributor): void {
    const list = this.#byKey.get(key);
    if (list === undefined) {
      this.#byKey.set(key, [c]);
    } else {
      const at = list.findIndex((x) => contributorOrder(c, x) < 0);
      list.splice(at < 0 ? list.length : at, 0, c);
    }
    this.#changed.add(key);
  }

  /** After a key's objects changed: its winner, whether it conflicts, whether the key set changed. */
  #settle(key: string): void {
    const list = this.#byKey.get(key);
    const had = this.#winners.has(key);
    if (list === undefined || list.length === 0) {
      this.#byKey.delete(key);
      this.#winners.delete(key);
    } else {
      this.#winners.set(key, list[0]!.object);
    }
    this.#keysChanged ||= had !== this.#winners.has(key);
    if ((list?.length ?? 0) > 1) this.#conflicted.add(key);
    else this.#conflicted.delete(key);
  }

  /** As mergeFiles orders them: by file (files not merged here last), then line; a file's own problems before its conflicts. */
  #problems(): ConfigProblem[] {
    const conflicts = new Map<string, { index: number; problem: ConfigProblem }[]>();
    for (const key of this.#conflicted) {
      const [winner, ...losers] = this.#byKey.get(key)!;
      for (const c of losers) {
        const list = conflicts.get(c.file) ?? [];
        list.push({ index: c.index, problem: conflictProblem(c.object, winner!.object, c.file) });
        conflicts.set(c.file, list);
      }
    }
    const files = [...new Set([...this.#withProblems, ...conflicts.keys()])].sort();
    const problems = files.flatMap((f) => [
      ...(this.#files.get(f)?.contribution.problems ?? []),
      ...(conflicts.get(f) ?? []).sort((a, b) => a.index - b.index).map((c) => c.problem),
    ]);
    const known = (p: ConfigProblem) => this.#files.has(p.file);
    return problems.sort((a, b) => {
      const ka = known(a);
      const kb = known(b);
      if (ka !== kb) return ka ? -1 : 1;
      return (ka && a.file !== b.file ? (a.file < b.file ? -1 : 1) : 0) || a.line - b.line;
    });
  }
}
