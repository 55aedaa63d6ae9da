import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, utimes, unlink, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { DirectorySource, type DirectorySourceOptions } from '../../../src/controlplane/sources/directory-source.js';
import type { ConfigState } from '../../../src/controlplane/sources/source.js';
import { States } from './helpers.js';
import { TrellisError } from '../../../src/errors.js';

const svc = (name: string, port = 9080) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: ${port}\n`;
const portOf = (s: ConfigState, key: string) => (s.objects.get(key)?.spec as { ports: { port: number }[] } | undefined)?.ports[0]?.port;

describe('DirectorySource', () => {
  let dir: string;
  let source: DirectorySource | undefined;
  const put = async (rel: string, text: string) => {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    // Write-then-rename, as editors and kubectl do, so a reader never sees half a file.
    await writeFile(join(dir, rel + '.tmp~'), text);
    await rename(join(dir, rel + '.tmp~'), join(dir, rel));
  };
  const startSource = async (opts: DirectorySourceOptions = {}) => {
    const states = new States();
    source = new DirectorySource(dir, { pollMs: 200, ...opts });
    await source.start(states.push);
    assert.equal(states.all.length, 1, 'start resolves after the first state');
    return states;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-dirsrc-'));
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  test('initial state: yaml/yml/json files recursively; dot-files, dot-dirs, node_modules and other files skipped', async () => {
    await put('b.yaml', svc('b'));
    await put('sub/deeper/c.yml', svc('c'));
    await put('d.json', JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'd' } }));
    await put('.hidden.yaml', svc('hidden'));
    await put('.git/x.yaml', svc('git'));
    await put('notes.txt', svc('txt'));
    await put('apps/node_modules/pkg/package.json', JSON.stringify({ name: 'pkg' }));
    const states = await startSource();
    const s = await states.next();
    assert.equal(s.revision, 1);
    assert.deepEqual([...s.objects.keys()], ['Service/default/b', 'Service/default/c', 'Service/default/d']);
    const { file, line } = s.objects.get('Service/default/c')!.origin!;
    assert.deepEqual({ file, line }, { file: 'sub/deeper/c.yml', line: 1 });
    assert.deepEqual(s.problems, []);
  });

  test('add, edit and delete files; other files keep their objects', async () => {
    await put('a.yaml', svc('a'));
    const states = await startSource();
    const s1 = await states.next();
    const a1 = s1.objects.get('Service/default/a');

    await put('b.yaml', svc('b'));
    const s2 = await states.until((s) => s.objects.has('Service/default/b'));
    assert.equal(s2.revision, s1.revision + 1);
    assert.equal(s2.objects.get('Service/default/a'), a1, 'a.yaml was not re-read');

    await put('b.yaml', svc('b', 9090));
    const s3 = await states.until((s) => portOf(s, 'Service/default/b') === 9090);
    assert.equal(s3.revision, s2.revision + 1);
    assert.equal(s3.objects.get('Service/default/a'), a1);

    await unlink(join(dir, 'b.yaml'));
    const s4 = await states.until((s) => !s.objects.has('Service/default/b'));
    assert.equal(s4.revision, s3.revision + 1);
    assert.deepEqual([...s4.objects.keys()], ['Service/default/a']);
  });

  test('a new subdirectory with files is picked up, and its removal too', async () => {
    // emptyHoldMs 0: the removal empties the directory; the hold has its own tests.
    const states = await startSource({ emptyHoldMs: 0 });
    assert.equal((await states.next()).objects.size, 0);
    await put('team/x/one.yaml', svc('one'));
    await states.until((s) => s.objects.has('Service/default/one'));
    await put('team/x/y/two.yaml', svc('two'));
    await states.until((s) => s.objects.has('Service/default/two'));
    await rm(join(dir, 'team'), { recursive: true });
    const s = await states.until((s) => s.objects.size === 0);
    assert.deepEqual(s.problems, []);
  });

  test('a syntax error keeps the last good objects of the file and reports the problem', async () => {
    await put('a.yaml', `${svc('a')}---\n${svc('a2')}`);
    const states = await startSource();
    await states.next();
    await put('a.yaml', `${svc('a', 1234)}---\nkind: [unclosed\n`);
    const s = await states.until((s) => s.problems.length > 0);
    assert.deepEqual([...s.objects.keys()], ['Service/default/a', 'Service/default/a2']);
    assert.equal(portOf(s, 'Service/default/a'), 9080, 'the whole previous file is kept');
    assert.equal(s.problems[0]!.code, 'CONFIG_PARSE');
    assert.equal(s.problems[0]!.file, 'a.yaml');
    assert.ok(s.problems[0]!.line >= 9, `line ${s.problems[0]!.line}`);
    await put('a.yaml', svc('a', 1234));
    const fixed = await states.until((s) => s.problems.length === 0);
    assert.deepEqual([...fixed.objects.keys()], ['Service/default/a']);
    assert.equal(portOf(fixed, 'Service/default/a'), 1234);
  });

  test('an invalid document keeps the previous version of that object only', async () => {
    await put('a.yaml', `${svc('a', 80)}---\n${svc('b', 81)}`);
    const states = await startSource();
    await states.next();
    await put('a.yaml', `${svc('a', 0)}---\n${svc('b', 82)}---\n${svc('new', 70000)}`);
    const s = await states.until((s) => portOf(s, 'Service/default/b') === 82);
    assert.equal(portOf(s, 'Service/default/a'), 80);
    assert.equal(s.objects.has('Service/default/new'), false);
    assert.deepEqual(s.problems.map((p) => [p.code, p.file, p.line]), [['CONFIG_INVALID', 'a.yaml', 7], ['CONFIG_INVALID', 'a.yaml', 23]]);
  });

  test('conflicts across files: the first file wins', async () => {
    await put('b.yaml', svc('reviews', 2));
    await put('a.yaml', `# comment\n${svc('reviews', 1)}`);
    const states = await startSource();
    const s = await states.next();
    assert.equal(portOf(s, 'Service/default/reviews'), 1);
    assert.deepEqual(s.problems, [{ code: 'CONFIG_CONFLICT', file: 'b.yaml', line: 1, reason: 'Service default/reviews is also defined at a.yaml:2; this one is ignored' }]);
    await unlink(join(dir, 'a.yaml'));
    const after = await states.until((s) => s.problems.length === 0);
    assert.equal(portOf(after, 'Service/default/reviews'), 2);
  });

  test('no new state when nothing changed (touch, identical rewrite, unrelated file)', async () => {
    await put('a.yaml', svc('a'));
    const states = await startSource({ pollMs: 50 });
    await states.next();
    const later = new Date(Date.now() + 5000);
    await utimes(join(dir, 'a.yaml'), later, later);
    await put('a.yaml', svc('a'));
    await put('readme.md', '# not config');
    await states.none(400);
    await put('a.yaml', svc('a', 1));
    assert.equal((await states.next()).revision, 2);
  });

  test('the periodic rescan alone sees every change (watcher off)', async () => {
    const states = await startSource({ watch: false, pollMs: 50, emptyHoldMs: 0 });
    await states.next();
    await put('n/a.yaml', svc('a'));
    assert.ok((await states.next(3000)).objects.has('Service/default/a'));
    await unlink(join(dir, 'n/a.yaml'));
    assert.equal((await states.next(3000)).objects.size, 0);
  });

  test('each problem is logged once when it appears, not on every rescan', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      await put('a.yaml', svc('a', 0));
      const states = await startSource({ pollMs: 30 });
      await states.next();
      await put('b.yaml', svc('b'));
      await states.next();
      await new Promise((r) => setTimeout(r, 200));
      const warnings = lines.filter((l) => l.includes(' warn config ') && l.includes('spec.ports[0].port'));
      assert.equal(warnings.length, 1, warnings.join(''));
      assert.match(warnings[0]!, /file="a\.yaml" line=7/);
    } finally {
      process.stderr.write = write;
    }
  });

  test('start rejects with CONFIG_SOURCE when the directory does not exist; stop ends deliveries', async () => {
    const missing = new DirectorySource(join(dir, 'missing'));
    await assert.rejects(missing.start(() => {}), (err: unknown) => err instanceof TrellisError && err.code === 'CONFIG_SOURCE');
    const states = await startSource({ pollMs: 20 });
    await states.next();
    await source!.stop();
    await put('late.yaml', svc('late'));
    await states.none(200);
  });
});

describe('DirectorySource when the directory is replaced', () => {
  test('keeps the last config while the directory is missing, and follows the new directory', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'trellis-dirsrc-'));
    const dir = join(parent, 'conf');
    const source = new DirectorySource(dir, { pollMs: 1000 });
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'a.yaml'), svc('a'));
      const states = new States();
      await source.start(states.push);
      assert.equal((await states.next()).objects.size, 1);
      await rm(dir, { recursive: true });
      const down = await states.next(3000);
      assert.deepEqual([...down.objects.keys()], ['Service/default/a'], 'the last good config is kept');
      assert.deepEqual(down.problems.map((p) => p.code), ['CONFIG_SOURCE']);
      await mkdir(dir);
      await writeFile(join(dir, 'b.yaml'), svc('b'));
      // Only the periodic rescan can notice the new directory (the old watcher watched a deleted inode).
      const s = await states.until((s) => s.objects.has('Service/default/b'), 3000);
      assert.deepEqual([...s.objects.keys()], ['Service/default/b']);
      assert.deepEqual(s.problems, []);
      // That rescan watches the new directory: a change is now seen well before the next rescan (1 s away).
      const t0 = Date.now();
      await writeFile(join(dir, 'c.yaml'), svc('c'));
      await states.until((s) => s.objects.has('Service/default/c'), 600);
      assert.ok(Date.now() - t0 < 600);
    } finally {
      await source.stop();
      await rm(parent, { recursive: true, force: true });
    }
  });
});
