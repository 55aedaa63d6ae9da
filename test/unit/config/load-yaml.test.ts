import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYamlDocuments, parseYamlFile } from '../../../src/config/load-yaml.js';
import { placeOf, yaml } from './helpers.js';

const multi = yaml`
  # leading comment
  apiVersion: v1
  kind: Service
  metadata:
    name: a
  ---
  ---
  # an empty document above and a comment-only one here
  ---
  apiVersion: v1
  kind: List
  items:
    - apiVersion: v1
      kind: Service
      metadata:
        name: b
    - apiVersion: v1
      kind: Service
      metadata:
        name: c
  ---
  apiVersion: v1
  kind: Namespace
  metadata: {name: d}
`;

test('multi-document YAML: every object with its 1-based line, empty documents ignored, List expanded', () => {
  const { objects, problems } = parseYamlFile('m.yaml', multi);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    objects.map((o) => [o.metadata.name, placeOf(o)]),
    [
      ['a', { file: 'm.yaml', line: 2 }],
      ['b', { file: 'm.yaml', line: 13 }],
      ['c', { file: 'm.yaml', line: 17 }],
      ['d', { file: 'm.yaml', line: 22 }],
    ],
  );
});

test('locate maps field paths to the line of the field, falling back to the deepest existing parent', () => {
  const { documents } = parseYamlDocuments('m.yaml', multi);
  assert.equal(documents[0]!.locate(['metadata', 'name']), 5);
  assert.equal(documents[0]!.locate(['metadata', 'nope']), 4);
  assert.equal(documents[0]!.locate([]), 2);
  assert.equal(documents[2]!.locate(['metadata', 'name']), 20);
  assert.equal(documents[2]!.locate(['kind']), 18);
});

test('a YAML syntax error becomes a problem with the line and the parser reason; other documents survive', () => {
  const text = yaml`
    apiVersion: v1
    kind: Service
    metadata: {name: ok}
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: [broken
    spec: {}
  `;
  const { documents, problems, syntaxError } = parseYamlDocuments('s.yaml', text);
  assert.equal(syntaxError, true);
  assert.equal(documents.length, 1);
  assert.ok(problems.length >= 1);
  assert.equal(problems[0]!.code, 'CONFIG_PARSE');
  assert.equal(problems[0]!.file, 's.yaml');
  assert.ok(problems[0]!.line >= 8 && problems[0]!.line <= 9, `line ${problems[0]!.line}`);
  assert.match(problems[0]!.reason, /^YAML syntax error: .*(flow|indent|\])/i);
});

test('duplicate keys are a syntax error', () => {
  const { problems } = parseYamlDocuments('d.yaml', 'kind: Service\nkind: Pod\n');
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 2);
  assert.match(problems[0]!.reason, /unique/);
});

test('a document that is not a mapping is a problem, not an object', () => {
  const { documents, problems, syntaxError } = parseYamlDocuments('l.yaml', '- a\n- b\n---\njust text\n');
  assert.equal(syntaxError, false);
  assert.equal(documents.length, 0);
  assert.deepEqual(problems.map((p) => p.line), [1, 4]);
});

test('JSON is read as YAML, with lines', () => {
  const text = '{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {\n    "name": "j"\n  }\n}\n';
  const { documents } = parseYamlDocuments('j.json', text);
  assert.equal(documents.length, 1);
  assert.deepEqual(documents[0]!.value, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'j' } });
  assert.equal(documents[0]!.locate(['metadata', 'name']), 5);
});

test('a List with a non-mapping item reports the item line', () => {
  const text = yaml`
    kind: List
    items:
      - apiVersion: v1
        kind: Service
        metadata: {name: x}
      - 42
  `;
  const { documents, problems } = parseYamlDocuments('l.yaml', text);
  assert.equal(documents.length, 1);
  assert.deepEqual(problems.map((p) => [p.line, p.reason]), [[6, 'List: items[1] is not a mapping']]);
});

test('tab-indented JSON with a BOM and CRLF line ends', () => {
  const json = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', labels: { a: 'b' } } }, null, '\t');
  const { documents, problems } = parseYamlDocuments('t.json', '\uFEFF' + json.replace(/\n/g, '\r\n'));
  assert.deepEqual(problems, []);
  assert.equal(documents.length, 1);
  assert.equal(documents[0]!.locate(['metadata', 'labels', 'a']), 7);
});
