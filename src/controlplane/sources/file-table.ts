/**
 * The directory source's files: each one's stamp, content hash and
 * contribution (file-merge.ts), updated file by file. A file whose stamp is
 * unchanged is not read; one read with the same bytes is not parsed; one
 * parsed to the same objects keeps its previous objects (keepUnchanged).
 * The merge of all files follows file by file (merged-files.ts).
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadConfigText } from '../../config/load-config.js';
import { errorMessage } from '../../errors.js';
import { acceptFile, keepUnchanged, unreadableFile, type FileContribution, type MergedConfig } from './file-merge.js';
import { MergedFiles } from './merged-files.js';
import { isUnder, type FileStamp } from './scan.js';

interface FileEntry {
  stamp: FileStamp;
  hash: string;
  contribution: FileContribution;
}

export class FileTable {
  readonly #dir: string;
  readonly #namePrefix: string;
  readonly #files = new Map<string, FileEntry>();
  readonly #merged = new MergedFiles();

  /** `namePrefix` goes before every file name in problems and origins. */
  constructor(dir: string, namePrefix: string) {
    this.#dir = dir;
    this.#namePrefix = namePrefix;
  }

  get size(): number {
    return this.#files.size;
  }

  has(file: string): boolean {
    return this.#files.has(file);
  }

  stampOf(file: string): FileStamp | undefined {
    return this.#files.get(file)?.stamp;
  }

  /** Whether every file lies under `under` (so a scan of it finding nothing would empty the config). */
  allUnder(under: string): boolean {
    for (const file of this.#files.keys()) if (!isUnder(file, under)) return false;
    return true;
  }

  /** Returns whether the file was there. */
  delete(file: string): boolean {
    this.#merged.set(this.#namePrefix + file, undefined);
    return this.#files.delete(file);
  }

  #set(file: string, entry: FileEntry): void {
    this.#files.set(file, entry);
    this.#merged.set(this.#namePrefix + file, entry.contribution);
  }

  /**
   * Applies a scan of `under` (every file there, with its stamp): drops the
   * files it did not find, re-reads those whose stamp changed. Returns
   * whether a contribution changed.
   */
  async apply(under: string, found: ReadonlyMap<string, FileStamp>, stopped: () => boolean): Promise<boolean> {
    let changed = false;
    for (const file of this.#files.keys()) {
      if (isUnder(file, under) && !found.has(file)) changed = this.delete(file) || changed;
    }
    for (const [file, stamp] of found) {
      if (stopped()) return false;
      if (this.#files.get(file)?.stamp !== stamp) changed = (await this.reload(file, stamp)) || changed;
    }
    return changed;
  }

  /** Re-reads one file; returns whether its contribution changed. */
  async reload(file: string, stamp: FileStamp): Promise<boolean> {
    const prev = this.#files.get(file);
    let text: string;
    try {
      text = await readFile(join(this.#dir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.delete(file);
      this.#set(file, { stamp, hash: '', contribution: unreadableFile(prev?.contribution, this.#namePrefix + file, errorMessage(err)) });
      return true;
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (prev && prev.hash === hash) {
      prev.stamp = stamp;
      return false;
    }
    const next = acceptFile(prev?.contribution, loadConfigText(this.#namePrefix + file, text));
    const contribution = prev ? keepUnchanged(prev.contribution, next) : next;
    this.#set(file, { stamp, hash, contribution });
    return contribution !== prev?.contribution;
  }

  /** All files merged, in path order (the conflict order); the same objects map as last time when no object changed. */
  merge(): MergedConfig {
    return this.#merged.result();
  }
}
