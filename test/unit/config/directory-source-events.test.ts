/**
 * Issue 16: the directory source handles a change by the path its watch
 * event names, not by rescanning the tree. The periodic rescan is set to a
 * minute here, so every state below comes from the watches alone.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { DirectorySource } from '../../../src/controlplane/sources/directory-source.js';
import type { ConfigState } from '../../../src/controlplane/sources/source.js';
import { States } from './helpers.js';
import { waitFor } from '../../helpers/ads-client.js';

const svc = (name: string, port = 80, comment = '') => `# ${comment}\napiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: ${port}\n`;
const portOf = (s: ConfigState, name: string) => (s.objects.get(`Service/default/${name}`)?.spec as { ports: { port: number }[] } | undefined)?.ports[0]?.port;

interface FsCalls {
  reads: string[];
  stats: string[];
}

/**
 * Records the paths node:fs/promises' readFile and stat are called with while
 * `fn` runs. The source imports them as ES bindings of the builtin, which
 * syncBuiltinESMExports points at the replacements and back.
 */
async function countingFsCalls(fn: (calls: FsCalls) => Promise<void>): Promise<FsCalls> {
  const cjs = createRequire(import.meta.url)('node:fs/promises') as typeof fsp;
  const { readFile, stat } = cjs;
  const calls: FsCalls = { reads: [], stats: [] };
  cjs.readFile = ((p: string, ...rest: unknown[]) => (calls.reads.push(String(p)), (readFile as (...a: unknown[]) => unknown)(p, ...rest))) as typeof readFile;
  cjs.stat = ((p: string, ...rest: unknown[]) => (calls.stats.push(String(p)), (stat as (...a: unknown[]) => unknown)(p, ...rest))) as typeof stat;
  syncBuiltinESMExports();
  try {
    await fn(calls);
  } finally {
    cjs.readFile = readFile;
    cjs.stat = stat;
    syncBuiltinESMExports();
  }
  return calls;
}

describe('DirectorySource: changes by the path the watch event names', () => {
  let dir: string;
  let source: DirectorySource | undefined;
  /** Written beside as a dot-file and renamed over, as editors and bench:churn do. */
  const put = async (rel: string, text: string) => {
    const abs = join(dir, rel);
    await mkdir(dirname(abs), { recursive: true });
    const tmp = join(dirname(abs), `.${rel.split('/').pop()}.tmp`);
    await writeFile(tmp, text);
    await rename(tmp, abs);
  };
  const start = async () => {
    const states = new States();
    source = new DirectorySource(dir, { pollMs: 60_000, emptyHoldMs: 0 });
    await source.start(states.push);
    return { states, first: await states.next() };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-dirsrc-events-'));
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  test('one file rewritten in a directory of 200: only that file is read, only it (and the root) stat-ed', async () => {
    await mkdir(join(dir, 'endpoints'));
    for (let i = 0; i < 200; i++) await writeFile(join(dir, 'endpoints', `svc-${i}.yaml`), svc(`svc-${i}`));
    const { states, first } = await start();
    assert.equal(first.objects.size, 200);
    const calls = await countingFsCalls(async () => {
      await put('endpoints/svc-7.yaml', svc('svc-7', 8080));
      await states.until((s) => portOf(s, 'svc-7') === 8080);
    });
    const rel = (p: string) => relative(dir, p) || '.';
    assert.deepEqual(calls.reads.map(rel), ['endpoints/svc-7.yaml']);
    // The root (replaced?), the renamed file, and the dot-file the rename took away (an event names it too).
    const others = calls.stats.map(rel).filter((p) => p !== '.' && p !== 'endpoints/svc-7.yaml' && !p.startsWith('endpoints/.'));
    assert.deepEqual(others, [], 'no other file is stat-ed: no rescan of the tree');
    const last = states.all.at(-1)!;
    assert.equal(last.objects.get('Service/default/svc-8'), first.objects.get('Service/default/svc-8'), 'other files keep their objects');
  });

  test('directories that come, nest, and go are followed without the periodic rescan', async () => {
    const { states } = await start();
    await put('team/x/y/two.yaml', svc('two'));
    await states.until((s) => s.objects.has('Service/default/two'));
    await put('team/x/y/two.yaml', svc('two', 81));
    await states.until((s) => portOf(s, 'two') === 81);
    await put('other.yaml', svc('other'));
    await states.until((s) => s.objects.has('Service/default/other'));
    await rename(join(dir, 'team'), join(dir, 'moved'));
    const moved = await states.until((s) => s.objects.get('Service/default/two')?.origin?.file === 'moved/x/y/two.yaml');
    assert.deepEqual(moved.problems, [], 'the old path is gone: no conflict with it');
    await put('moved/x/y/two.yaml', svc('two', 82));
    await states.until((s) => portOf(s, 'two') === 82);
    await rm(join(dir, 'moved'), { recursive: true });
    const s = await states.until((s) => !s.objects.has('Service/default/two'));
    assert.deepEqual([...s.objects.keys()], ['Service/default/other']);
  });

  test("a ConfigMap volume's ..data swap is seen through the visible links", async () => {
    await mkdir(join(dir, '..2026_a'));
    await writeFile(join(dir, '..2026_a', 'a.yaml'), svc('a', 1));
    await symlink('..2026_a', join(dir, '..data'));
    await symlink('..data/a.yaml', join(dir, 'a.yaml'));
    const { states, first } = await start();
    assert.equal(portOf(first, 'a'), 1);
    // What the kubelet's AtomicWriter does: a new timestamped directory, a new ..data link renamed over the old one.
    await mkdir(join(dir, '..2026_b'));
    await writeFile(join(dir, '..2026_b', 'a.yaml'), svc('a', 2));
    await symlink('..2026_b', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..2026_a'), { recursive: true });
    const s = await states.until((s) => portOf(s, 'a') === 2);
    assert.equal(s.objects.get('Service/default/a')?.origin?.file, 'a.yaml');
  });

  test('a rewrite keeps the objects it did not change; one that changes no object delivers nothing', async () => {
    await writeFile(join(dir, 'two.yaml'), `${svc('a')}---\n${svc('b')}`);
    const { states, first } = await start();
    await put('two.yaml', `${svc('a')}---\n${svc('b', 81)}`);
    const s = await states.until((s) => portOf(s, 'b') === 81);
    assert.equal(s.objects.get('Service/default/a'), first.objects.get('Service/default/a'));
    // A comment edited in place: other bytes, the same objects at the same lines. Once the source has read it, a marker.
    await countingFsCalls(async (calls) => {
      await put('two.yaml', `${svc('a', 80, 'edited')}---\n${svc('b', 81)}`);
      await waitFor(() => calls.reads.some((p) => p.endsWith('two.yaml')));
      await put('marker.yaml', svc('marker'));
    });
    const next = await states.next();
    assert.ok(next.objects.has('Service/default/marker'), `revision ${next.revision} is the marker's, not the comment's`);
  });
});
