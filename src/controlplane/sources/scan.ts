/**
 * Lists the config files under a directory: *.yaml, *.yml and *.json,
 * recursively, skipping dot-files and dot-directories (which also skips the
 * "..data" machinery of Kubernetes ConfigMap volumes while following the
 * visible symlinks into it) and node_modules: a config directory that holds
 * its apps (`trellis up`'s) may hold their packages, thousands of package.json
 * files that are no config (each read, parsed and reported at every start).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bounds symlink cycles and pathological trees. */
const maxDepth = 32;

/** Change detection key of a file: size, mtime and ctime in ns, inode. */
export type FileStamp = string;

export function isConfigFile(name: string): boolean {
  return !name.startsWith('.') && /\.(ya?ml|json)$/i.test(name);
}

/**
 * Returns relative paths ('/'-separated) → stamp, sorted by path. Entries
 * that vanish while scanning are skipped; an unreadable root throws.
 */
export async function scanConfigFiles(root: string): Promise<Map<string, FileStamp>> {
  const found: [string, FileStamp][] = [];
  const seenDirs = new Set<string>();
  await scanDir(root, '', 0, found, seenDirs);
  found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(found);
}

async function scanDir(abs: string, rel: string, depth: number, found: [string, FileStamp][], seenDirs: Set<string>): Promise<void> {
  const dirStat = await stat(abs, { bigint: true });
  const id = `${dirStat.dev}:${dirStat.ino}`;
  if (depth > maxDepth || seenDirs.has(id)) return;
  seenDirs.add(id);
  const names = await readdir(abs);
  for (const name of names.sort()) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const childAbs = join(abs, name);
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const st = await stat(childAbs, { bigint: true }).catch(() => undefined);
    if (st === undefined) continue;
    if (st.isDirectory()) {
      await scanDir(childAbs, childRel, depth + 1, found, seenDirs).catch(() => undefined);
    } else if (st.isFile() && isConfigFile(name)) {
      found.push([childRel, `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`]);
    }
  }
}
