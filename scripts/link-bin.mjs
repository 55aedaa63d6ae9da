/**
 * Links node_modules/.bin/trellis to the built bundle, so that `npx trellis`
 * in a checkout runs it at once. package.json has no `bin` on purpose: when
 * the project's own package.json declares the bin, npm exec "self-executes"
 * it by installing the project into the npx cache — its dependencies again
 * and `prepare`, the whole build, 30–100 s before the first command prints
 * anything (issue 8; libnpmexec, hasPkgBin). The package is private, so the
 * field served nothing else.
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
