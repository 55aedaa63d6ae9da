/**
 * Issue 8, defect 4: a config directory that vanishes or empties. A deleted
 * directory keeps the last good config and says so (CONFIG_SOURCE); an
 * emptied one is served empty only after it stayed empty for the hold.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectorySource, type DirectorySourceOptions } from '../../../src/controlplane/sources/directory-source.js';
import { States } from './helpers.js';

const svc = (name: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: 80\n`;

/** Captures this process's log lines (stderr) while `fn` runs. */
async function withLogLines<T>(fn: (lines: string[]) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return await fn(lines);
  } finally {
    process.stderr.write = write;
  }
}

describe('DirectorySource: a vanished or emptied directory', () => {
  let parent: string;
  let dir: string;
  let source: DirectorySource | undefined;
  const start = async (opts: DirectorySourceOptions) => {
    const states = new States();
    source = new DirectorySource(dir, { pollMs: 50, ...opts });
    await source.start(states.push);
    await states.next();
    return states;
  };

  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'trellis-vanish-'));
    dir = join(parent, 'conf');
    await mkdir(dir);
    await writeFile(join(dir, 'a.yaml'), svc('a'));
    await writeFile(join(dir, 'b.yaml'), svc('b'));
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await rm(parent, { recursive: true, force: true });
  });

  test('a deleted directory keeps the config, reports CONFIG_SOURCE once, and recovers by itself', async () => {
    await withLogLines(async (lines) => {
      const states = await start({});
      await rm(dir, { recursive: true });
      const down = await states.next(2000);
      assert.deepEqual([...down.objects.keys()], ['Service/default/a', 'Service/default/b']);
      assert.equal(down.problems.length, 1);
      const p = down.problems[0]!;
      assert.equal(p.code, 'CONFIG_SOURCE');
      assert.equal(p.file, dir);
      assert.equal(p.line, 0);
      assert.match(p.reason, /ENOENT/);
      // Many rescans (every 50 ms) during the outage: no new state, one log line.
      await states.none(400);
      assert.equal(lines.filter((l) => l.includes('config directory scan failed')).length, 1);

      await mkdir(dir);
      await writeFile(join(dir, 'a.yaml'), svc('a'));
      await writeFile(join(dir, 'b.yaml'), svc('b'));
      // A rescan may land between the two writes (a state with a only, which is right for that moment).
      const up = await states.until((s) => s.problems.length === 0 && s.objects.size === 2, 2000);
      assert.deepEqual([...up.objects.keys()], ['Service/default/a', 'Service/default/b']);
      assert.equal(lines.filter((l) => l.includes('config directory readable again')).length, 1);
    });
  });

  test('a directory replaced by a file is unavailable too (ENOTDIR), not empty', async () => {
    const states = await start({});
    await rename(dir, join(parent, 'old'));
    await writeFile(dir, 'not a directory');
    const down = await states.until((s) => s.problems.some((p) => p.code === 'CONFIG_SOURCE' && /ENOTDIR/.test(p.reason)), 2000);
    assert.equal(down.objects.size, 2);
  });

  test('emptied and refilled within the hold: no state at all, the config never blinks', async () => {
    // One file, written whole by a rename: a scan between two files of a refill would see a partial config.
    await unlink(join(dir, 'b.yaml'));
    const states = await start({ emptyHoldMs: 1000 });
    await unlink(join(dir, 'a.yaml'));
    // Several rescans see the empty directory.
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(join(parent, 'a.yaml'), svc('a'));
    await rename(join(parent, 'a.yaml'), join(dir, 'a.yaml'));
    await states.none(1200);
  });

  test('emptied for longer than the hold: the empty config is served, not before', async () => {
    const states = await start({ emptyHoldMs: 400 });
    const t0 = performance.now();
    await unlink(join(dir, 'a.yaml'));
    await unlink(join(dir, 'b.yaml'));
    const empty = await states.next(3000);
    assert.equal(empty.objects.size, 0);
    assert.deepEqual(empty.problems, []);
    assert.ok(performance.now() - t0 >= 400, `served after ${performance.now() - t0} ms`);
  });

  test('a deleted directory that comes back empty is held like an emptied one', async () => {
    const states = await start({ emptyHoldMs: 500 });
    await rm(dir, { recursive: true });
    await states.until((s) => s.problems.length === 1, 2000);
    await mkdir(dir);
    const back = await states.next(2000);
    assert.equal(back.objects.size, 2, 'the source is back, the empty listing is still held');
    assert.deepEqual(back.problems, []);
    const empty = await states.next(3000);
    assert.equal(empty.objects.size, 0);
  });

  test('a directory that is empty at start is served empty at once', async () => {
    await unlink(join(dir, 'a.yaml'));
    await unlink(join(dir, 'b.yaml'));
    const states = new States();
    source = new DirectorySource(dir, { pollMs: 50, emptyHoldMs: 60_000 });
    await source.start(states.push);
    assert.equal((await states.next()).objects.size, 0);
  });
});
