import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../../src/config/load-config.js';
import { acceptFile, mergeFiles, type FileContribution } from '../../../src/controlplane/sources/file-merge.js';
import { placeOf, yaml } from './helpers.js';

const svc = (name: string, port = 9080) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: ${port}\n`;
const accept = (file: string, text: string, prev?: FileContribution) => acceptFile(prev, loadConfigText(file, text));
const names = (c: { objects: Iterable<{ metadata: { name: string } }> }) => [...c.objects].map((o) => o.metadata.name);

test('conflict between files: the lexicographically first file wins, the other is reported at its own line', () => {
  const a = accept('a.yaml', `\n\n${svc('reviews')}`);
  const b = accept('b.yaml', `${svc('ratings')}---\n${svc('reviews', 9090)}`);
  const merged = mergeFiles([['a.yaml', a], ['b.yaml', b]]);
  assert.deepEqual([...merged.objects.keys()], ['Service/default/ratings', 'Service/default/reviews']);
  assert.deepEqual(placeOf(merged.objects.get('Service/default/reviews')!), { file: 'a.yaml', line: 3 });
  assert.deepEqual(merged.problems, [
    { code: 'CONFIG_CONFLICT', file: 'b.yaml', line: 9, reason: 'Service default/reviews is also defined at a.yaml:3; this one is ignored' },
  ]);
});

test('conflict inside one file: the first document wins', () => {
  const merged = mergeFiles([['x.yaml', accept('x.yaml', `${svc('reviews', 1)}---\n${svc('reviews', 2)}`)]]);
  assert.equal(merged.objects.size, 1);
  assert.deepEqual((merged.objects.get('Service/default/reviews')!.spec as { ports: { port: number }[] }).ports[0]!.port, 1);
  assert.deepEqual(merged.problems.map((p) => [p.code, p.line]), [['CONFIG_CONFLICT', 9]]);
});

test('different namespaces or kinds do not conflict', () => {
  const text = `${svc('reviews')}---\n${svc('reviews').replace('name: reviews', 'name: reviews\n  namespace: other')}`;
  const merged = mergeFiles([['x.yaml', accept('x.yaml', text)]]);
  assert.deepEqual([...merged.objects.keys()], ['Service/default/reviews', 'Service/other/reviews']);
  assert.deepEqual(merged.problems, []);
});

test('a syntax error keeps the whole previous contribution of the file', () => {
  const good = accept('f.yaml', `${svc('a')}---\n${svc('b')}`);
  const broken = accept('f.yaml', `${svc('a')}---\nkind: [oops\n`, good);
  assert.deepEqual(names(broken), ['a', 'b']);
  assert.equal(broken.problems[0]!.code, 'CONFIG_PARSE');
  assert.match(broken.problems[0]!.reason, /keeping the last good version of this file: 2 object\(s\)/);
  // Once fixed, the file's current content counts again.
  assert.deepEqual(names(accept('f.yaml', svc('c'), broken)), ['c']);
});

test('a syntax error in a file never parsed keeps nothing but its good documents', () => {
  const first = accept('f.yaml', `${svc('a')}---\nkind: [oops\n`);
  assert.deepEqual(names(first), ['a']);
  assert.equal(first.parsedOnce, false);
});

test('an invalid document keeps the previous version of the same object; unseen invalid objects are skipped', () => {
  const v1 = accept('f.yaml', `${svc('a', 80)}---\n${svc('b', 81)}`);
  const v2 = accept('f.yaml', `${svc('a', 0)}---\n${svc('b', 82)}---\n${svc('c', 0)}`, v1);
  assert.deepEqual(names(v2), ['a', 'b']);
  const ports = v2.objects.map((o) => (o.spec as { ports: { port: number }[] }).ports[0]!.port);
  assert.deepEqual(ports, [80, 82]);
  assert.deepEqual(
    v2.problems.map((p) => p.reason),
    [
      'Service default/a: spec.ports[0].port: must be an integer 1..65535 (got 0) (keeping the previous version)',
      'Service default/c: spec.ports[0].port: must be an integer 1..65535 (got 0)',
    ],
  );
  // The kept version survives a further invalid edit, and a document removed from the file goes away.
  const v3 = accept('f.yaml', svc('a', 70000), v2);
  assert.deepEqual(names(v3), ['a']);
  assert.equal((v3.objects[0]!.spec as { ports: { port: number }[] }).ports[0]!.port, 80);
});

test('problems are ordered by file then line', () => {
  const bad = yaml`
    apiVersion: v1
    kind: Service
    metadata: {name: Bad}
  `;
  const merged = mergeFiles([
    ['a.yaml', accept('a.yaml', `${svc('x')}---\n${bad}`)],
    ['b/c.yaml', accept('b/c.yaml', `${bad}---\n${svc('x')}`)],
  ]);
  assert.deepEqual(merged.problems.map((p) => `${p.file}:${p.line}:${p.code}`), ['a.yaml:11:CONFIG_INVALID', 'b/c.yaml:3:CONFIG_INVALID', 'b/c.yaml:5:CONFIG_CONFLICT']);
});
