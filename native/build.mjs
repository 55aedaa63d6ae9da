#!/usr/bin/env node
// Builds the addon with the node-gyp that ships with npm, against the headers
// of the running Node (no download: the machine may be offline). A failed
// build does not fail the install: the proxy reports at start that
// capture-dependent listeners are unavailable (src/native/original-dst.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

const gyp = findNodeGyp();
const nodedir = resolve(process.execPath, '..', '..');
const args = ['rebuild', '-C', here];
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
if (process.platform !== 'linux') {
  console.warn('trellis native: not Linux, addon not built (transparent capture unavailable)');
  process.exit(0);
}
if (!gyp) {
  console.warn('trellis native: node-gyp not found, addon not built (transparent capture unavailable)');
  process.exit(0);
}
const r = spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' });
if (r.status !== 0) {
  console.warn(`trellis native: build failed (exit ${r.status}); transparent capture unavailable`);
  if (process.env.TRELLIS_NATIVE_REQUIRED === '1') process.exit(1);
}
