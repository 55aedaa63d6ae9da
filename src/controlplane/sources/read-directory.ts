/**
 * A config directory (or one file) read once, as the directory source's
 * first state would be, without watching: what `trellis analyze`,
 * `describe --config-dir` and `tls-check --config-dir` judge. File names are
 * relative to the directory (a file given alone keeps its own name), as in
 * the control plane's problems.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadConfigText } from '../../config/load-config.js';
import { errorMessage, TrellisError } from '../../errors.js';
import { acceptFile, mergeFiles, unreadableFile, type MergedConfig } from './file-merge.js';
import { scanConfigFiles } from './scan.js';

export async function readConfigDirectory(path: string): Promise<MergedConfig & { files: string[] }> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new TrellisError('CONFIG_SOURCE', `cannot read ${path}`, { cause: err });
  }
  const files = isDir ? [...(await scanConfigFiles(path)).keys()] : [basename(path)];
  const contributions = await Promise.all(files.map(async (file) => {
    const abs = isDir ? join(path, file) : path;
    try {
      return [file, acceptFile(undefined, loadConfigText(file, await readFile(abs, 'utf8')))] as const;
    } catch (err) {
      return [file, unreadableFile(undefined, file, errorMessage(err))] as const;
    }
  }));
  return { ...mergeFiles(contributions), files };
}
