/**
 * Fuzz target: config files through everything that reads them — YAML
 * loading, validation, the directory source's per-file acceptance (last good
 * versions) and merge, the model and the reference analysis. Whatever the
 * text, nothing may throw; every problem is one of the documented codes and
 * names its file and a line inside it; every accepted object and each of its
 * fields has a line inside its file; and a valid document next to a broken
 * one is still accepted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzz, mutated } from './harness.js';
import { repoSeedFiles, seedFiles, validDocuments } from './config-seeds.js';
import { loadConfigText, type LoadedFile } from '../../src/config/load-config.js';
import { fieldLine, type FieldPath } from '../../src/config/field-lines.js';
import { lineCount } from '../../src/config/text-lines.js';
import type { AnyObject } from '../../src/config/objects.js';
import { acceptFile, mergeFiles, type FileContribution } from '../../src/controlplane/sources/file-merge.js';
import { buildModel } from '../../src/controlplane/registry/build-model.js';
import { analyzeConfig } from '../../src/controlplane/analyze/analyze.js';
import type { ConfigProblem } from '../../src/config/config-problem.js';

// A mutated Gateway API seed can be refused (TRL0003) or ask for what is not implemented (an unknown listener protocol).
const codes = new Set<string>(['CONFIG_PARSE', 'CONFIG_INVALID', 'CONFIG_CONFLICT', 'IST0101', 'TRL0003', 'CONFIG_UNSUPPORTED']);

function checkProblem(p: ConfigProblem, lines: ReadonlyMap<string, number>): void {
  const max = lines.get(p.file);
  const ok = max !== undefined && codes.has(p.code) && Number.isInteger(p.line) && p.line >= 1 && p.line <= max && typeof p.reason === 'string' && p.reason !== '';
  if (!ok) throw new Error(`problem outside its file (${max} lines): ${JSON.stringify(p)}`);
}

/** Every field path of a value, breadth-first, at most `limit` of them. */
function fieldPaths(value: unknown, limit = 500): FieldPath[] {
  const out: FieldPath[] = [];
  const queue: [unknown, FieldPath][] = [[value, []]];
  while (queue.length > 0 && out.length < limit) {
    const [v, path] = queue.shift()!;
    out.push(path);
    if (Array.isArray(v)) v.forEach((item, i) => queue.push([item, [...path, i]]));
    else if (typeof v === 'object' && v !== null) for (const [k, item] of Object.entries(v)) queue.push([item, [...path, k]]);
  }
  return out;
}

function checkObject(o: AnyObject, lines: ReadonlyMap<string, number>): void {
  const max = o.origin ? lines.get(o.origin.file) : undefined;
  if (max === undefined) throw new Error(`object without a known origin: ${JSON.stringify(o.origin)}`);
  for (const path of fieldPaths(o)) {
    const line = fieldLine(o.origin, path);
    if (!(Number.isInteger(line) && line >= 1 && line <= max)) throw new Error(`field ${JSON.stringify(path)} at line ${line} of a ${max}-line file`);
  }
}

/**
 * Files (name → text, each optionally over a previous version's contribution)
 * as the directory source and the control plane take them; checks every
 * invariant and returns what each file loaded.
 */
function pipeline(files: readonly [string, string, FileContribution?][]): Map<string, LoadedFile> {
  const lines = new Map(files.map(([f, text]) => [f, lineCount(text)]));
  const loaded = new Map<string, LoadedFile>();
  const contributions: [string, FileContribution][] = [];
  for (const [file, text, prev] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const l = loadConfigText(file, text);
    loaded.set(file, l);
    contributions.push([file, acceptFile(prev, l)]);
  }
  const merged = mergeFiles(contributions);
  for (const p of merged.problems) checkProblem(p, lines);
  for (const o of merged.objects.values()) checkObject(o, lines);
  const model = buildModel({ objects: merged.objects, problems: merged.problems, revision: 1 });
  for (const p of analyzeConfig(merged.objects.values(), model)) checkProblem(p, lines);
  return loaded;
}

const seeds = seedFiles();
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const good = new Map<string, FileContribution>();
/** A file's contribution when it last held `seed` (memoised: it is the same for every case). */
const lastGood = (file: string, seed: string) => {
  const key = `${file}\0${seed}`;
  if (!good.has(key)) good.set(key, acceptFile(undefined, loadConfigText(file, seed)));
  return good.get(key)!;
};

/** Text that looks like YAML often enough to reach deep parser and validator states. */
const yamlish: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom('\n', '\n', '  ', '- ', ': ', '---\n', '...\n', '"', "'", '[', ']', '{', '}', ',', '#', '&a ', '*a', '!!str ', '? ', '|', '>-', '\t', '\r\n', '%YAML 1.2\n', '~', '\uFEFF', '\\'),
      fc.constantFrom('apiVersion: networking.istio.io/v1\n', 'apiVersion: v1\n', 'kind: VirtualService\n', 'kind: List\nitems:\n', 'kind: Service\n', 'metadata: {name: r}\n', 'spec:\n', 'http:\n', 'route:\n', 'destination:\n', 'host: reviews\n', 'subset: v1\n', 'hosts: [r]\n', 'ports: [{port: 80}]\n'),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

/** Line-shaped YAML: indented keys of Istio's schema with hostile values (aliases, open quotes, huge numbers). */
const yamlLines: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom('', '  ', '    ', '      ', '- ', '  - ', '    - '),
      fc.constantFrom('apiVersion', 'kind', 'metadata', 'name', 'namespace', 'spec', 'hosts', 'http', 'tcp', 'route', 'destination', 'host', 'subset', 'port', 'number', 'weight', 'mirror', 'items', 'match', 'uri', 'regex', 'timeout', 'subsets', 'labels', '__proto__', '"quoted key"', '? complex'),
      fc.constantFrom('', 'reviews', 'v1', '*a', '&a v1', '&a {host: r}', '[a, b]', '{host: r, subset: v1}', '"open', "'open", '|', '>-', '~', '1.5s', '"(a+)+$"', '99999999999999999999999', '-1', 'true', '!!binary eA==', 'VirtualService', 'List', 'networking.istio.io/v1', '[', '{', '*nowhere'),
    ),
    { maxLength: 30 },
  )
  .map((lines) => lines.map(([indent, key, value]) => `${indent}${key}:${value === '' ? '' : ` ${value}`}\n`).join(''));

test('fuzz config-yaml: arbitrary text never throws; every problem and every field is inside its file', async (t) => {
  await fuzz(
    'config-yaml/arbitrary',
    fc.property(fc.oneof(yamlish, yamlLines, fc.string({ unit: 'binary', maxLength: 300 })), fc.nat(seeds.length - 1), (s, k) => {
      pipeline([['a.yaml', s]]);
      // The same text replacing a file that was good: kept objects must point into the new text.
      pipeline([['a.yaml', s, lastGood('a.yaml', seeds[k]!)]]);
    }),
    1500,
    t,
  );
});

test('fuzz config-yaml: mutated Istio documents, over their last good version and beside a valid file', async (t) => {
  const seed = fc.nat(seeds.length - 1);
  await fuzz(
    'config-yaml/mutated',
    fc.property(seed.chain((k) => fc.tuple(fc.constant(k), mutated(fc.constant(bytes(seeds[k]!)), 8))), fc.nat(seeds.length - 1), ([k, b], other) => {
      pipeline([['b.yaml', text(b), lastGood('b.yaml', seeds[k]!)], ['a.yaml', seeds[other]!]]);
    }),
    400,
    t,
  );
});

test('fuzz config-yaml: a valid document beside a broken one is still accepted', async (t) => {
  const broken = fc.oneof(yamlish, yamlLines, fc.nat(seeds.length - 1).chain((k) => mutated(fc.constant(bytes(seeds[k]!)), 8).map(text)));
  await fuzz(
    'config-yaml/beside',
    fc.property(fc.nat(validDocuments.length - 1), broken, fc.boolean(), (v, bad, validFirst) => {
      const valid = validDocuments[v]!;
      // "kind: Broken" first: the broken part is a document of its own, not a prologue of directives for the valid one.
      const before = `kind: Broken\n${bad}\n---\n`;
      const file = validFirst ? `${valid}---\n${bad}` : `${before}${valid}`;
      const start = validFirst ? 1 : lineCount(before) + 1;
      const loaded = pipeline([['c.yaml', file]]).get('c.yaml')!;
      const mine = loaded.documents.find((d) => d.origin.line === start);
      assert.ok(mine?.object, `the valid document at line ${start} was not accepted: ${JSON.stringify(loaded.documents.map((d) => [d.origin.line, d.problems.map((p) => p.reason)]))}`);
      assert.equal(mine.key, loadConfigText('v.yaml', valid).documents[0]!.key);
    }),
    500,
    t,
  );
});

test('the seeds are valid config (a mutated seed starts from something real)', () => {
  for (const s of [...repoSeedFiles(), ...validDocuments]) {
    const l = loadConfigText('s.yaml', s);
    assert.deepEqual([...l.parseProblems, ...l.documents.flatMap((d) => d.problems)].map((p) => p.reason), [], s.slice(0, 80));
  }
});

// Cases the fuzzer found (with the fix undone), kept as named regressions.

test('regression: an alias to no anchor is a problem of its document, not a ReferenceError out of the loader', () => {
  const loaded = pipeline([['r.yaml', 'apiVersion: *nowhere\n']]).get('r.yaml')!;
  assert.deepEqual(loaded.parseProblems.map((p) => [p.line, p.code]), [[1, 'CONFIG_PARSE']]);
});

test('regression: an unclosed flow collection at the end of the file is reported inside the file', () => {
  const loaded = pipeline([['r.yaml', '[apiVersion: networking.istio.io/v1\n']]).get('r.yaml')!;
  assert.deepEqual(loaded.parseProblems.map((p) => p.line), [1]);
});

test('regression: a stray "]" or an open quote after a valid document does not take the document with it', () => {
  for (const bad of [']', '"open', "kind: 'open\nmore: x"]) {
    const loaded = pipeline([['r.yaml', `${validDocuments[1]}---\n${bad}\n---\n${validDocuments[2]}`]]).get('r.yaml')!;
    assert.equal(loaded.documents.filter((d) => d.object).length, 2, bad);
  }
});
