/**
 * A ConfigSource over a directory of YAML/JSON files, watched for changes.
 *
 * Change detection has two layers: fs.watch (recursive, which Node 20 supports
 * on Linux) triggers a rescan ~20 ms after the first raw event, and a periodic
 * rescan catches whatever a watcher can miss (network filesystems, watcher
 * errors, ConfigMap symlink swaps). A rescan stats every file and re-reads
 * only those whose size/mtime/ctime/inode changed, so it is cheap; a state is
 * delivered only when the merged result actually differs.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadConfigText } from '../../config/load-config.js';
import { TrellisError, errorMessage } from '../../errors.js';
import { logger } from '../../log.js';
import { acceptFile, mergeFiles, unreadableFile, type FileContribution, type MergedConfig } from './file-merge.js';
import { scanConfigFiles, type FileStamp } from './scan.js';
import { EmptyHold } from './empty-hold.js';
import type { ConfigSource, ConfigState } from './source.js';
import type { ConfigProblem } from '../../config/config-problem.js';

const log = logger('config');

export interface DirectorySourceOptions {
  /** Period of the safety-net rescan in ms (default 2000). */
  pollMs?: number;
  /** Delay between the first raw fs event and the rescan, to coalesce bursts (default 20). */
  debounceMs?: number;
  /** Use fs.watch (default true); false leaves only the periodic rescan. */
  watch?: boolean;
  /** How long an emptied directory must stay empty before it is served (default 5000; 0 serves it at once). */
  emptyHoldMs?: number;
  /** Put before every file name in problems and origins (e.g. "DIR/" when several directories are merged). */
  namePrefix?: string;
}

interface FileEntry {
  stamp: FileStamp;
  hash: string;
  contribution: FileContribution;
}

/**
 * Problems name files by their path relative to `dir` ('/'-separated), and
 * objects carry the same in `origin.file`.
 */
export class DirectorySource implements ConfigSource {
  readonly #dir: string;
  readonly #pollMs: number;
  readonly #debounceMs: number;
  readonly #useWatch: boolean;
  readonly #namePrefix: string;
  readonly #files = new Map<string, FileEntry>();
  #onState: ((state: ConfigState) => void) | undefined;
  #revision = 0;
  #fingerprint = '';
  #logged = new Set<string>();
  #watcher: FSWatcher | undefined;
  /** dev:inode of the watched directory, to notice when it is replaced. */
  #rootId: string | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #rescanRequested = false;
  /** Set while the directory cannot be listed: reported with the kept config. */
  #sourceProblem: ConfigProblem | undefined;
  readonly #emptyHold: EmptyHold;
  #watchWarned = false;
  #stopped = false;

  constructor(dir: string, opts: DirectorySourceOptions = {}) {
    this.#dir = dir;
    this.#pollMs = opts.pollMs ?? 2000;
    this.#debounceMs = opts.debounceMs ?? 20;
    this.#useWatch = opts.watch ?? true;
    this.#namePrefix = opts.namePrefix ?? '';
    this.#emptyHold = new EmptyHold(dir, opts.emptyHoldMs ?? 5000, () => this.#rescan());
  }

  /** Delivers revision 1 (the full initial state) before resolving. Rejects with CONFIG_SOURCE if `dir` is not a readable directory. */
  async start(onState: (state: ConfigState) => void): Promise<void> {
    if (this.#onState) throw new TrellisError('CONFIG_SOURCE', `directory source ${this.#dir} already started`);
    const st = await stat(this.#dir).catch((err: unknown) => {
      throw new TrellisError('CONFIG_SOURCE', `config directory ${this.#dir}: ${errorMessage(err)}`, { cause: err });
    });
    if (!st.isDirectory()) throw new TrellisError('CONFIG_SOURCE', `config directory ${this.#dir}: not a directory`);
    this.#onState = onState;
    // Watch before the first scan so that no change falls between the two.
    if (this.#useWatch) this.#startWatcher();
    this.#rescan();
    await this.#scanning;
    if (this.#revision === 0) {
      await this.stop();
      throw new TrellisError('CONFIG_SOURCE', this.#sourceProblem?.reason ?? `config directory ${this.#dir}: initial scan failed`);
    }
    this.#pollTimer = setInterval(() => this.#rescan(), this.#pollMs);
  }

  /** Closes the watcher and timers; waits for a scan in progress. No state is delivered after this resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#debounceTimer);
    this.#emptyHold.cancel();
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#scanning;
  }

  #startWatcher(): void {
    try {
      const w = watch(this.#dir, { recursive: true }, () => this.#onFsEvent());
      w.on('error', (err) => {
        this.#warnWatch('directory watcher failed; relying on periodic rescans', err);
        w.close();
        if (this.#watcher === w) this.#watcher = undefined;
      });
      this.#watcher = w;
    } catch (err) {
      this.#warnWatch('cannot watch directory; relying on periodic rescans', err);
    }
  }

  #warnWatch(msg: string, err: unknown): void {
    if (!this.#watchWarned) log.warn(msg, { dir: this.#dir, error: errorMessage(err) });
    this.#watchWarned = true;
  }

  /**
   * A watcher follows the directory's inode: when the directory is replaced
   * (deleted and recreated, a volume remounted) or the watcher died, watch again.
   */
  async #rewatchIfReplaced(): Promise<void> {
    if (!this.#useWatch || this.#stopped) return;
    const st = await stat(this.#dir, { bigint: true }).catch(() => undefined);
    if (st === undefined) {
      // Gone: the watcher watches a dead inode (which a new directory may even reuse), so drop it now.
      this.#watcher?.close();
      this.#watcher = undefined;
      return;
    }
    const id = `${st.dev}:${st.ino}`;
    if (id === this.#rootId && this.#watcher !== undefined) return;
    const replaced = this.#rootId !== undefined;
    this.#rootId = id;
    if (!replaced && this.#watcher !== undefined) return;
    this.#watcher?.close();
    this.#watcher = undefined;
    if (!this.#stopped) this.#startWatcher();
  }

  #onFsEvent(): void {
    if (this.#stopped || this.#debounceTimer !== undefined) return;
    this.#debounceTimer = setTimeout(() => {
      this.#debounceTimer = undefined;
      this.#rescan();
    }, this.#debounceMs);
  }

  /** Scans are serialized; a request during a scan runs one more scan after it. */
  #rescan(): void {
    if (this.#stopped) return;
    if (this.#scanning) {
      this.#rescanRequested = true;
      return;
    }
    this.#scanning = this.#scanLoop().finally(() => (this.#scanning = undefined));
  }

  async #scanLoop(): Promise<void> {
    do {
      this.#rescanRequested = false;
      let changed: boolean;
      try {
        changed = await this.#scanOnce();
      } catch (err) {
        this.#sourceDown(err);
        continue;
      }
      const recovered = this.#sourceProblem !== undefined;
      if (recovered) log.info('config directory readable again', { dir: this.#dir });
      this.#sourceProblem = undefined;
      if ((changed || recovered || this.#revision === 0) && !this.#stopped) this.#deliver();
    } while (this.#rescanRequested && !this.#stopped);
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

  /** Rescans; returns whether the files' contributions may have changed. */
  async #scanOnce(): Promise<boolean> {
    await this.#rewatchIfReplaced();
    const found = await scanConfigFiles(this.#dir);
    if (this.#emptyHold.holds(found.size, this.#files.size)) return false;
    let changed = false;
    for (const file of this.#files.keys()) {
      if (!found.has(file)) changed = this.#files.delete(file) || changed;
    }
    for (const [file, stamp] of found) {
      if (this.#stopped) return false;
      if (this.#files.get(file)?.stamp !== stamp) changed = (await this.#reload(file, stamp)) || changed;
    }
    return changed;
  }

  /** Re-reads one file; returns whether its contribution may have changed. */
  async #reload(file: string, stamp: FileStamp): Promise<boolean> {
    const prev = this.#files.get(file);
    let text: string;
    try {
      text = await readFile(join(this.#dir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.#files.delete(file);
      this.#files.set(file, { stamp, hash: '', contribution: unreadableFile(prev?.contribution, this.#namePrefix + file, errorMessage(err)) });
      return true;
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (prev && prev.hash === hash) {
      prev.stamp = stamp;
      return false;
    }
    const contribution = acceptFile(prev?.contribution, loadConfigText(this.#namePrefix + file, text));
    this.#files.set(file, { stamp, hash, contribution });
    return true;
  }

  #deliver(): void {
    const files = [...this.#files.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([file, e]) => [this.#namePrefix + file, e.contribution] as const);
    const merged = mergeFiles(files);
    const fingerprint = fingerprintOf(merged, this.#sourceProblem);
    if (this.#revision > 0 && fingerprint === this.#fingerprint) return;
    this.#fingerprint = fingerprint;
    this.#logNewProblems(merged.problems);
    this.#revision += 1;
    const problems = this.#sourceProblem ? [this.#sourceProblem, ...merged.problems] : merged.problems;
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

function fingerprintOf(merged: MergedConfig, sourceProblem: ConfigProblem | undefined): string {
  return JSON.stringify([[...merged.objects.entries()], merged.problems, sourceProblem ?? null]);
}
