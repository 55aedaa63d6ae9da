/**
 * Issue 8: "one report pointed at line 40 of a 39-line file". Every line a
 * problem names must exist in the file and be the line of the offending text;
 * expected lines are found by searching the text, not written down by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYamlDocuments } from '../../../src/config/load-yaml.js';
import { fileProblems, loadConfigText } from '../../../src/config/load-config.js';
import { lineCount } from '../../../src/config/text-lines.js';
import { acceptFile, mergeFiles } from '../../../src/controlplane/sources/file-merge.js';
import { fieldLine } from '../../../src/config/field-lines.js';
import { yaml } from './helpers.js';

/** 1-based line of the only occurrence of `needle` in `text`. */
function lineOfText(text: string, needle: string): number {
  const at = text.indexOf(needle);
  assert.ok(at >= 0 && text.indexOf(needle, at + 1) < 0, `${JSON.stringify(needle)} must occur exactly once`);
  return text.slice(0, at).split('\n').length;
}

const service = yaml`
  apiVersion: v1
  kind: Service
  metadata:
    name: reviews
  spec:
    ports:
    - port: 9080
      name: http
`;

test('lineCount counts lines as an editor does', () => {
  assert.deepEqual(['', 'a', 'a\n', 'a\nb', 'a\nb\n', '\n\n', 'a\r\nb\r\n'].map(lineCount), [1, 1, 1, 2, 2, 2, 2]);
});

test('issue 8: an unclosed flow collection at the end of the file is reported on its own line, not one past the end', () => {
  const text = `${service}---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews\n`;
  const problems = parseYamlDocuments('vs.yaml', text).problems;
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, lineOfText(text, 'hosts: [reviews'));
  assert.ok(problems[0]!.line <= lineCount(text));
});

test('issue 8: an unclosed quote followed by blank lines and comments points where the quote was left open', () => {
  const text = `${service}  labels:\n    app: "reviews\n\n# trailing comment\n\n`;
  const problems = parseYamlDocuments('s.yaml', text).problems;
  assert.deepEqual(problems.map((p) => p.line), [lineOfText(text, 'app: "reviews')]);
});

test('issue 8: a broken document before "---" is reported on its line, and the documents after it keep exact lines', () => {
  const text = `${service}---\nkind: [oops\n# comment\n---\n${service.replace('reviews', 'ratings')}`;
  const parsed = parseYamlDocuments('m.yaml', text);
  assert.deepEqual(parsed.problems.map((p) => p.line), [lineOfText(text, 'kind: [oops')]);
  assert.deepEqual(parsed.documents.map((d) => d.locate(['metadata', 'name'])), [lineOfText(text, 'name: reviews'), lineOfText(text, 'name: ratings')]);
});

test('an unclosed quote does not swallow the documents after it (a "---" line always starts a document)', () => {
  const ratings = service.replace('reviews', 'ratings');
  for (const quote of ['"', "'"]) {
    const text = `${service}---\nkind: ${quote}Service\n---\n${ratings}---\n# last\n`;
    const parsed = parseYamlDocuments('q.yaml', text);
    assert.deepEqual(parsed.documents.map((d) => (d.value as { metadata: { name: string } }).metadata.name), ['reviews', 'ratings']);
    assert.deepEqual(parsed.problems.map((p) => p.line), [lineOfText(text, `kind: ${quote}Service`)]);
    assert.equal(parsed.documents[1]!.locate(['metadata', 'name']), lineOfText(text, 'name: ratings'));
  }
});

test('directives: a prologue before the first "---" stays with it; one after "..." is read where the parser accepts it', () => {
  const text = `%YAML 1.2\n# prologue\n---\n${service}...\n%YAML 1.2\n---\n${service.replace('reviews', 'ratings')}`;
  const parsed = parseYamlDocuments('d.yaml', text);
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(parsed.documents.map((d) => d.locate(['metadata', 'name'])), [lineOfText(text, 'name: reviews'), lineOfText(text, 'name: ratings')]);
  // A directive line where none may be does not change how the next document reads.
  const stray = `kind: [oops\n%TAG !x! broken\n---\n${service}`;
  assert.deepEqual(parseYamlDocuments('s.yaml', stray).documents.length, 1);
});

test('an unclosed flow collection at the end of a file without a final newline', () => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: a';
  assert.deepEqual(parseYamlDocuments('n.yaml', text).problems.map((p) => p.line), [3]);
});

test('an alias to no anchor, or too many aliases, is a problem of that document, never an exception', () => {
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
  for (const bad of ['apiVersion: v1\nkind: Service\nmetadata: {name: *nowhere}\n', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n${laughs}\n`]) {
    const text = `${service}---\n${bad}`;
    const parsed = parseYamlDocuments('a.yaml', text);
    assert.equal(parsed.syntaxError, true);
    assert.equal(parsed.documents.length, 1, 'the good document is still read');
    assert.deepEqual(parsed.problems.map((p) => [p.code, p.line]), [['CONFIG_PARSE', lineOfText(text, '---\n') + 1]]);
    assert.match(parsed.problems[0]!.reason, /alias/i);
  }
});

const routes = yaml`
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata:
    name: reviews
  spec:
    hosts: [reviews]
    http:
    - match:
      - headers: {end-user: {exact: jason}}
      route:
      - destination: {host: reviews, subset: v2}
    - route:
      - destination:
          host: reviews
          subset: v3
        weight: 100
`;

/** The same VirtualService in the shapes the loader must handle, each with the text where it ends up. */
function shapes(): [string, string][] {
  const indent = (s: string, by: string) => s.replace(/^(?=.)/gm, by);
  const list = `apiVersion: v1\nkind: List\nitems:\n- ${indent(routes, '  ').trimStart()}`;
  return [
    ['plain', routes],
    ['leading --- and comments', `# routing for reviews\n---\n# owned by team x\n${routes}`],
    ['after other documents', `${service}---\n---\n# empty above\n---\n${routes}`],
    ['after a broken document', `${service}---\nspec: [oops\n---\n${routes}`],
    ['kind: List', `${service}---\n${list}`],
    ['CRLF', `${service}---\n${routes}`.replace(/\n/g, '\r\n')],
    ['BOM and JSON', '\uFEFF' + JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } }, null, 2) + '\n---\n' + routes],
  ];
}

test('nested field lines are exact in every shape of file (multi-document, List, CRLF, leading ---, comments, after a bad document)', () => {
  for (const [name, text] of shapes()) {
    const loaded = loadConfigText('r.yaml', text);
    const vs = loaded.documents.map((d) => d.object).find((o) => o?.kind === 'VirtualService');
    assert.ok(vs, `${name}: the VirtualService is accepted`);
    const subset = ['spec', 'http', 1, 'route', 0, 'destination', 'subset'];
    assert.equal(fieldLine(vs.origin, subset), lineOfText(text, 'subset: v3'), `${name}: http[1].route[0].destination.subset`);
    assert.equal(fieldLine(vs.origin, ['spec', 'http', 0, 'route', 0, 'destination', 'subset']), lineOfText(text, '{host: reviews, subset: v2}'), `${name}: flow mapping`);
    assert.equal(fieldLine(vs.origin, ['spec', 'http', 1, 'route', 0, 'weight']), lineOfText(text, 'weight: 100'), `${name}: weight`);
    assert.equal(fieldLine(vs.origin, ['spec', 'http', 1, 'route', 0, 'destination', 'port']), lineOfText(text, 'subset: v3') - 2, `${name}: a missing field falls back to its parent (destination)`);
    for (const p of fileProblems(loaded)) assert.ok(p.line >= 1 && p.line <= lineCount(text), `${name}: ${p.line} within ${lineCount(text)} lines`);
  }
});

test('issue 8: a kept previous version is re-anchored to where its document is now, so conflicts name existing lines', () => {
  const padded = `${'# padding\n'.repeat(30)}${service}`;
  const before = acceptFile(undefined, loadConfigText('z.yaml', padded));
  // The document moved to the top and became invalid: the old version stays, at the document's new place.
  const now = service.replace('port: 9080', 'port: 0');
  const after = acceptFile(before, loadConfigText('z.yaml', now));
  assert.equal(after.objects.length, 1);
  assert.equal(after.objects[0]!.origin!.line, 1);
  const other = acceptFile(undefined, loadConfigText('a.yaml', service));
  const merged = mergeFiles([['a.yaml', other], ['z.yaml', after]]);
  const conflict = merged.problems.find((p) => p.code === 'CONFIG_CONFLICT');
  assert.deepEqual(conflict && [conflict.file, conflict.line], ['z.yaml', 1]);
  for (const p of merged.problems) if (p.file === 'z.yaml') assert.ok(p.line <= lineCount(now), `${p.code} at ${p.line}`);
});

test('a file that stops parsing keeps its objects at lines that still exist', () => {
  const text = `${'# padding\n'.repeat(30)}${service}---\n${service.replace('reviews', 'ratings')}`;
  const before = acceptFile(undefined, loadConfigText('f.yaml', text));
  const broken = `${service.replace('reviews', 'ratings')}---\nkind: [oops\n`;
  const after = acceptFile(before, loadConfigText('f.yaml', broken));
  const lines = Object.fromEntries(after.objects.map((o) => [o.metadata.name, o.origin!.line]));
  // "ratings" still has a document (line 1); "reviews" has none and stays within the file.
  assert.deepEqual(lines, { reviews: lineCount(broken), ratings: 1 });
});
