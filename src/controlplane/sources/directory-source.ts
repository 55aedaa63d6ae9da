/**
 * A ConfigSource over a directory of YAML/JSON files, watched for changes.
 *
 * Change detection has two layers. One plain fs.watch per directory
 * (dir-watchers.ts) names the entry that changed; ~20 ms after the first
 * event the named files alone are stat'ed and, if their stamp changed,
 * re-read (a named directory, or one that comes or goes, is scanned by
 * itself). A periodic full rescan catches whatever a watcher can miss
 * (events the kernel drops, watcher errors, network filesystems); it stats
 * every file and re-reads only those whose size/mtime/ctime/inode changed.
 * A state is delivered only when the merged result differs: unchanged files
 * keep their objects, so that is an identity check per object.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TrellisError, errorMessage } from '../../errors.js';
import { logger } from '../../log.js';
import { sameMerged, type MergedConfig } from './file-merge.js';
import { dirIdOf, isConfigFile, isUnder, scanTree, stampOf, type ScanResult } from './scan.js';
import { DirWatchers } from './dir-watchers.js';
import { FileTable } from './file-table.js';
import { EmptyHold } from './empty-hold.js';
import type { ConfigSource, ConfigState } from './source.js';
import type { ConfigProblem } from '../../config/config-problem.js';

const log = logger('config');

export interface DirectorySourceOptions {
  /** Period of the safety-net rescan in ms (default 2000). */
  pollMs?: number;
  /** Delay between the first raw fs event and handling the burst, to coalesce it (default 20). */
  debounceMs?: number;
  /** Use fs.watch (default true); false leaves only the periodic rescan. */
  watch?: boolean;
  /** How long an emptied directory must stay empty before it is served (default 5000; 0 serves it at once). */
  emptyHoldMs?: number;
  /** Put before every file name in problems and origins (e.g. "DIR/" when several directories are merged). */
  namePrefix?: string;
}

/** What handling a burst of events found: whether a contribution changed, or that only a full rescan can tell. */
type Outcome = boolean | 'full';

/**
 * Problems name files by their path relative to `dir` ('/'-separated), and
 * objects carry the same in `origin.file`.
 */
export class DirectorySource implements ConfigSource {
  readonly #dir: string;
  readonly #pollMs: number;
  readonly #debounceMs: number;
  readonly #table: FileTable;
  readonly #watchers: DirWatchers;
  #onState: ((state: ConfigState) => void) | undefined;
  #revision = 0;
  /** What was delivered last (sources' problems included), to deliver only a different result. */
  #delivered: MergedConfig | undefined;
  #logged = new Set<string>();
  /** dev:inode of the root directory, to notice when it is replaced. */
  #rootId: string | undefined;
  /** Paths (relative) named by events since they were last handled; directories whose event named nothing. */
  #eventPaths = new Set<string>();
  #eventDirs = new Set<string>();
  #fullRequested = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  /** Set while the directory cannot be listed: reported with the kept config. */
  #sourceProblem: ConfigProblem | undefined;
  readonly #emptyHold: EmptyHold;
  #stopped = false;

  constructor(dir: string, opts: DirectorySourceOptions = {}) {
    this.#dir = dir;
    this.#pollMs = opts.pollMs ?? 2000;
    this.#debounceMs = opts.debounceMs ?? 20;
    this.#table = new FileTable(dir, opts.namePrefix ?? '');
    this.#watchers = new DirWatchers(dir, opts.watch ?? true, (d, name) => this.#onFsEvent(d, name));
    this.#emptyHold = new EmptyHold(dir, opts.emptyHoldMs ?? 5000, () => this.#kick(true));
  }

  /** Delivers revision 1 (the full initial state) before resolving. Rejects with CONFIG_SOURCE if `dir` is not a readable directory. */
  async start(onState: (state: ConfigState) => void): Promise<void> {
    if (this.#onState) throw new TrellisError('CONFIG_SOURCE', `directory source ${this.#dir} already started`);
    const st = await stat(this.#dir).catch((err: unknown) => {
      throw new TrellisError('CONFIG_SOURCE', `config directory ${this.#dir}: ${errorMessage(err)}`, { cause: err });
    });
    if (!st.isDirectory()) throw new TrellisError('CONFIG_SOURCE', `config directory ${this.#dir}: not a directory`);
    this.#onState = onState;
    // The first scan watches every directory before listing it, so that no change falls between the two.
    this.#kick(true);
    await this.#scanning;
    if (this.#revision === 0) {
      await this.stop();
      throw new TrellisError('CONFIG_SOURCE', this.#sourceProblem?.reason ?? `config directory ${this.#dir}: initial scan failed`);
    }
    this.#pollTimer = setInterval(() => this.#kick(true), this.#pollMs);
  }

  /** Closes the watchers and timers; waits for a scan in progress. No state is delivered after this resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#debounceTimer);
    this.#emptyHold.cancel();
    this.#watchers.close();
    await this.#scanning;
  }

  #onFsEvent(dir: string, name: string | null): void {
    if (this.#stopped) return;
    if (name === null) this.#eventDirs.add(dir);
    else this.#eventPaths.add(dir === '' ? name : `${dir}/${name}`);
    if (this.#debounceTimer !== undefined) return;
    this.#debounceTimer = setTimeout(() => {
      this.#debounceTimer = undefined;
      this.#kick(false);
    }, this.#debounceMs);
  }

  /** Passes are serialized; a request during one runs one more pass after it. `full`: rescan the whole tree. */
  #kick(full: boolean): void {
    if (this.#stopped) return;
    if (full) this.#fullRequested = true;
    if (this.#scanning) {
      this.#again = true;
      return;
    }
    this.#scanning = this.#scanLoop().finally(() => (this.#scanning = undefined));
  }

  async #scanLoop(): Promise<void> {
    do {
      this.#again = false;
      let changed: boolean;
      try {
        changed = await this.#pass();
      } catch (err) {
        this.#sourceDown(err);
        continue;
      }
      const recovered = this.#sourceProblem !== undefined;
      if (recovered) log.info('config directory readable again', { dir: this.#dir });
      this.#sourceProblem = undefined;
      if ((changed || recovered || this.#revision === 0) && !this.#stopped) this.#deliver();
    } while (this.#again && !this.#stopped);
  }

  /** Handles the events since the last pass, or rescans everything when asked to or when the events cannot tell. */
  async #pass(): Promise<boolean> {
    if (!this.#fullRequested) {
      const outcome = await this.#applyEvents();
      if (outcome !== 'full') return outcome;
    }
    this.#fullRequested = false;
    return this.#scanAll();
  }

  /**
   * The directory cannot be listed (deleted, unmounted, no permission): keep
   * serving the last good config, and say so in the state's problems. A
   * vanished mount must never empty the mesh.
   */
  #sourceDown(err: unknown): void {
    const reason = `config directory ${this.#dir} is unavailable (${errorMessage(err)}); serving the last good config until it is back`;
    const changed = this.#sourceProblem?.reason !== reason;
    // Logged once per outage (and per new cause): the periodic rescan would otherwise repeat it every pollMs.
    if (changed) log.error('config directory scan failed; keeping the current config', { dir: this.#dir, error: errorMessage(err) });
    this.#sourceProblem = { code: 'CONFIG_SOURCE', file: this.#dir, line: 0, reason };
    // Before the first state there is nothing to keep: start() rejects instead.
    if (changed && this.#revision > 0 && !this.#stopped) this.#deliver();
  }

  /** Rescans the whole tree; returns whether the files' contributions changed. Throws when the root cannot be listed. */
  async #scanAll(): Promise<boolean> {
    // Whatever the events named, this scan sees it.
    this.#eventPaths.clear();
    this.#eventDirs.clear();
    await this.#checkRoot();
    const found = await scanTree(this.#dir, { onDir: this.#onDir });
    this.#watchers.retain('', found.dirs);
    if (this.#emptyHold.holds(found.files.size, this.#table.size)) return false;
    return this.#table.apply('', found.files, () => this.#stopped);
  }

  readonly #onDir = (rel: string, abs: string, id: string): void => this.#watchers.ensure(rel, abs, id);

  /**
   * A watch follows its directory's inode: when the root is replaced (deleted
   * and recreated, a volume remounted) or gone, every watch watches a dead
   * tree (whose inode a new directory may even reuse), so drop them all; the
   * scan watches what it finds.
   */
  async #checkRoot(): Promise<void> {
    const st = await stat(this.#dir, { bigint: true }).catch(() => undefined);
    const id = st === undefined ? undefined : dirIdOf(st);
    if (id !== this.#rootId) this.#watchers.forgetAll();
    this.#rootId = id;
  }

  /** The events since the last pass, each path on its own ('full' when only a full rescan can tell). */
  async #applyEvents(): Promise<Outcome> {
    const paths = this.#eventPaths;
    const dirs = this.#eventDirs;
    if (paths.size + dirs.size === 0) return false;
    this.#eventPaths = new Set();
    this.#eventDirs = new Set();
    // Held empty or unavailable: the files known are not the directory's; a root gone or replaced: the events' names mean nothing.
    if (this.#emptyHold.active || this.#sourceProblem !== undefined || dirs.has('') || !(await this.#rootUnchanged())) return 'full';
    const scanned: string[] = [];
    let changed = false;
    for (const rel of [...dirs, ...paths]) {
      if (scanned.some((d) => isUnder(rel, d))) continue;
      const outcome = dirs.has(rel) ? await this.#rescanUnder(rel, scanned) : await this.#applyPath(rel, scanned);
      if (outcome === 'full') return 'full';
      if (this.#stopped) return false;
      changed = outcome || changed;
    }
    return changed;
  }

  async #rootUnchanged(): Promise<boolean> {
    const st = await stat(this.#dir, { bigint: true }).catch(() => undefined);
    return st !== undefined && st.isDirectory() && dirIdOf(st) === this.#rootId;
  }

  /** One path an event named: a config file is re-read if its stamp changed; a directory that came, went or was swapped is scanned. */
  async #applyPath(rel: string, scanned: string[]): Promise<Outcome> {
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    const name = rel.slice(slash + 1);
    const st = await stat(join(this.#dir, rel), { bigint: true }).catch(() => undefined);
    if (st?.isDirectory()) {
      if (name === 'node_modules') return false;
      // A dot-directory is not scanned, but a ConfigMap volume swaps its "..data" link: the visible links beside it now point elsewhere.
      return this.#rescanUnder(name.startsWith('.') ? parent : rel, scanned);
    }
    if (isConfigFile(name)) {
      if (st?.isFile()) return this.#table.stampOf(rel) === stampOf(st) ? false : this.#table.reload(rel, stampOf(st));
      if (!this.#table.has(rel)) return false;
      // The last file: an emptied directory goes through the hold, which the full rescan applies.
      return this.#table.size === 1 ? 'full' : this.#table.delete(rel);
    }
    // A directory removed or renamed away takes its files with it.
    if (st === undefined && this.#watchers.has(rel)) return this.#rescanUnder(rel, scanned);
    return false;
  }

  /** Scans one subtree as the full rescan would (a subtree that is gone has no files left). */
  async #rescanUnder(under: string, scanned: string[]): Promise<Outcome> {
    if (under === '') return 'full';
    scanned.push(under);
    let found: ScanResult;
    try {
      found = await scanTree(this.#dir, { under, seenDirs: this.#watchers.idsOutside(under), onDir: this.#onDir });
    } catch {
      found = { files: new Map(), dirs: new Set() };
    }
    if (found.files.size === 0 && this.#table.size > 0 && this.#table.allUnder(under)) return 'full';
    this.#watchers.retain(under, found.dirs);
    return this.#table.apply(under, found.files, () => this.#stopped);
  }

  #deliver(): void {
    const merged = this.#table.merge();
    const problems = this.#sourceProblem ? [this.#sourceProblem, ...merged.problems] : merged.problems;
    const result: MergedConfig = { objects: merged.objects, problems };
    if (this.#delivered !== undefined && sameMerged(this.#delivered, result)) return;
    this.#delivered = result;
    this.#logNewProblems(merged.problems);
    this.#revision += 1;
    const state: ConfigState = { objects: merged.objects, problems, revision: this.#revision };
    log.info('config state', { dir: this.#dir, revision: state.revision, objects: state.objects.size, problems: state.problems.length });
    try {
      this.#onState?.(state);
    } catch (err) {
      log.error('config state listener threw', { revision: state.revision, error: errorMessage(err) });
    }
  }

  /** Each problem is logged once when it appears, not on every rescan. */
  #logNewProblems(problems: readonly ConfigProblem[]): void {
    const current = new Set<string>();
    for (const p of problems) {
      const id = `${p.code}|${p.file}|${p.line}|${p.reason}`;
      current.add(id);
      if (!this.#logged.has(id)) log.warn(p.reason, { code: p.code, file: p.file, line: p.line });
    }
    this.#logged = current;
  }
}
