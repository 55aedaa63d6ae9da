/**
 * Issue 8: after `npm ci`, the README's first `npx trellis ...` must start at
 * once — not install the project into npx's cache and rebuild it. Run with an
 * empty npm cache, offline: if npx tried to install anything it would fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

test('npx trellis runs the built bundle from a fresh npm cache, offline', { skip: spawnSync('npx', ['--version']).status !== 0 && 'no npx' }, () => {
  const cache = mkdtempSync(join(tmpdir(), 'trellis-npx-cache-'));
  try {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const r = spawnSync('npx', ['--no-install', 'trellis', '--version'], {
      cwd: ROOT, encoding: 'utf8', timeout: 30_000,
      env: { ...process.env, npm_config_cache: cache, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    });
    assert.equal(r.status, 0, `npx trellis failed: ${r.stderr}`);
    assert.equal(r.stdout.trim(), version);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
