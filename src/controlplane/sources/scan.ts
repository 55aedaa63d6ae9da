/**
 * Lists the config files under a directory: *.yaml, *.yml and *.json,
 * recursively, skipping dot-files and dot-directories (which also skips the
 * "..data" machinery of Kubernetes ConfigMap volumes while following the
 * visible symlinks into it) and node_modules: a config directory that holds
 * its apps (`trellis up`'s) may hold their packages, thousands of package.json
 * files that are no config (each read, parsed and reported at every start).
 */
import { readdir, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';

/** Bounds symlink cycles and pathological trees. */
const maxDepth = 32;

/** Change detection key of a file: size, mtime and ctime in ns, inode. */
export type FileStamp = string;

export function isConfigFile(name: string): boolean {
  return !name.startsWith('.') && /\.(ya?ml|json)$/i.test(name);
}

/** A directory scan descends into it (dot-directories and node_modules are never config). */
export function isScannedDir(name: string): boolean {
  return !name.startsWith('.') && name !== 'node_modules';
}

export function stampOf(st: BigIntStats): FileStamp {
  return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
}

/** Identity of a directory: a symlink to a directory already scanned is not scanned again. */
export function dirIdOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

/** Whether `rel` is `under` or inside it ('' is the root, above everything). */
export function isUnder(rel: string, under: string): boolean {
  return under === '' || rel === under || rel.startsWith(under + '/');
}

export interface ScanOptions {
  /** Scan only this subdirectory (relative, '/'-separated; default the root). */
  under?: string;
  /** Ids (dirIdOf) of directories already scanned elsewhere, so that a symlink to one is skipped as in a full scan. */
  seenDirs?: Iterable<string>;
  /** Called for every directory before it is listed, so that a watch set there misses no entry created after the listing. */
  onDir?: (rel: string, abs: string, id: string) => void;
}

export interface ScanResult {
  /** Relative paths ('/'-separated) → stamp, sorted by path. */
  files: Map<string, FileStamp>;
  /** Relative paths of the directories scanned ('' is the root). */
  dirs: Set<string>;
}

/**
 * Scans the tree (or one subtree). Entries that vanish while scanning are
 * skipped; an unreadable starting directory throws. A directory's entries
 * are stat'ed concurrently: one after the other, 1,000 files took 187 ms.
 */
export async function scanTree(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const under = opts.under ?? '';
  const walk: Walk = { found: [], dirs: new Set(), seenDirs: new Set(opts.seenDirs ?? []), onDir: opts.onDir };
  await scanDir(walk, under === '' ? root : join(root, under), under, under === '' ? 0 : under.split('/').length);
  walk.found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { files: new Map(walk.found), dirs: walk.dirs };
}

/** Relative paths ('/'-separated) → stamp, sorted by path, of the whole tree. */
export async function scanConfigFiles(root: string): Promise<Map<string, FileStamp>> {
  return (await scanTree(root)).files;
}

interface Walk {
  found: [string, FileStamp][];
  dirs: Set<string>;
  seenDirs: Set<string>;
  onDir: ScanOptions['onDir'];
}

async function scanDir(walk: Walk, abs: string, rel: string, depth: number): Promise<void> {
  const id = dirIdOf(await stat(abs, { bigint: true }));
  if (depth > maxDepth || walk.seenDirs.has(id)) return;
  walk.seenDirs.add(id);
  walk.onDir?.(rel, abs, id);
  walk.dirs.add(rel);
  const names = (await readdir(abs)).filter(isScannedDir).sort();
  const stats = await Promise.all(names.map((name) => stat(join(abs, name), { bigint: true }).catch(() => undefined)));
  // Subdirectories one after the other, in name order: of two links to one directory, the first name keeps it.
  for (const [i, name] of names.entries()) {
    const st = stats[i];
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (st?.isDirectory()) {
      await scanDir(walk, join(abs, name), childRel, depth + 1).catch(() => undefined);
    } else if (st?.isFile() && isConfigFile(name)) {
      walk.found.push([childRel, stampOf(st)]);
    }
  }
}
