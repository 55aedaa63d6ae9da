/**
 * One plain (non-recursive) fs.watch per directory of a config tree, added
 * and dropped as scans find directories come and go. Node 20's
 * `recursive: true` is JavaScript on Linux that lists and stats the whole
 * directory again on every event (~5.8 ms per change in a 1,000-file
 * directory); a plain watch is one inotify watch handing over the name.
 *
 * The directories' ids (dirIdOf) are kept even where a watch could not be
 * set, so that a subtree scan skips a symlink to a directory scanned
 * elsewhere, as a full scan does.
 */
import { watch, type FSWatcher } from 'node:fs';
import { errorMessage } from '../../errors.js';
import { logger } from '../../log.js';
import { isUnder } from './scan.js';

const log = logger('config');

/** `dir`: the watched directory, relative to the root ('' is the root); `name`: the entry named by the event, if any. */
export type DirEvent = (dir: string, name: string | null) => void;

interface Watched {
  id: string;
  watcher: FSWatcher | undefined;
}

export class DirWatchers {
  readonly #root: string;
  readonly #useWatch: boolean;
  readonly #onEvent: DirEvent;
  readonly #dirs = new Map<string, Watched>();
  #warned = false;
  #closed = false;

  constructor(root: string, useWatch: boolean, onEvent: DirEvent) {
    this.#root = root;
    this.#useWatch = useWatch;
    this.#onEvent = onEvent;
  }

  /** A scan reached `rel` (about to list it): watch it, again if it is another directory than the one watched there. */
  ensure(rel: string, abs: string, id: string): void {
    // A scan still running when the source stopped must not leave a watch open (it would keep the process alive).
    if (this.#closed) return;
    const cur = this.#dirs.get(rel);
    if (cur?.id === id && (cur.watcher !== undefined || !this.#useWatch)) return;
    cur?.watcher?.close();
    this.#dirs.set(rel, { id, watcher: this.#useWatch ? this.#watch(rel, abs) : undefined });
  }

  /** After a scan of `under`: drops the directories under it that the scan did not find. */
  retain(under: string, found: ReadonlySet<string>): void {
    for (const [rel, w] of this.#dirs) {
      if (isUnder(rel, under) && !found.has(rel)) {
        w.watcher?.close();
        this.#dirs.delete(rel);
      }
    }
  }

  /** Ids of the known directories outside `under` (for ScanOptions.seenDirs). */
  idsOutside(under: string): string[] {
    return [...this.#dirs].filter(([rel]) => !isUnder(rel, under)).map(([, w]) => w.id);
  }

  /** Whether a scan found a directory at `rel`. */
  has(rel: string): boolean {
    return this.#dirs.has(rel);
  }

  /** Forgets every directory (the root was replaced: they belong to another tree). */
  forgetAll(): void {
    this.retain('', new Set());
  }

  /** For good: later scans watch nothing. */
  close(): void {
    this.#closed = true;
    this.forgetAll();
  }

  #watch(rel: string, abs: string): FSWatcher | undefined {
    try {
      const w = watch(abs, (_type, name) => this.#onEvent(rel, name));
      w.on('error', (err) => {
        // The next full rescan watches it again; until then that rescan is the safety net.
        this.#warn('directory watcher failed; relying on periodic rescans', err);
        w.close();
        const cur = this.#dirs.get(rel);
        if (cur?.watcher === w) cur.watcher = undefined;
      });
      return w;
    } catch (err) {
      // ENOSPC (fs.inotify.max_user_watches) or a directory gone since it was listed.
      this.#warn('cannot watch directory; relying on periodic rescans', err);
      return undefined;
    }
  }

  #warn(msg: string, err: unknown): void {
    if (!this.#warned) log.warn(msg, { dir: this.#root, error: errorMessage(err) });
    this.#warned = true;
  }
}
