/**
 * Links node_modules/.bin/trellis to the built bundle, so that `npx trellis`
 * in a checkout runs it at once. Without the link npx does not find the
 * project's own bin, installs the project into its cache as a package and
 * runs `prepare` there — the whole build again, 30–75 s before the first
 * command prints anything (issue 8).
 */
import { mkdirSync, readlinkSync, symlinkSync, unlinkSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const target = join('..', '..', 'dist', 'bundle', 'main.js');
const binDir = join('node_modules', '.bin');
const link = join(binDir, 'trellis');

mkdirSync(binDir, { recursive: true });
let current;
try {
  current = readlinkSync(link);
} catch {
  current = undefined;
}
if (current !== target) {
  if (current !== undefined || existsSync(link)) unlinkSync(link);
  symlinkSync(target, link);
}
chmodSync(join('dist', 'bundle', 'main.js'), 0o755);
