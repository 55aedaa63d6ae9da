/** Our RFC 6902 diff, judged by fast-json-patch (an independent implementation): applied in order, it turns the first document into the second. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { createPatch, escapePointer } from '../../../src/inject/json-patch.js';
import { fuzz } from '../../fuzz/harness.js';

const apply = (a: unknown, ops: ReturnType<typeof createPatch>) => jsonpatch.applyPatch(structuredClone(a), ops as jsonpatch.Operation[], true, false).newDocument;

describe('createPatch', () => {
  test('annotation keys with / and ~ are escaped (RFC 6901)', () => {
    assert.equal(escapePointer('prometheus.io/port'), 'prometheus.io~1port');
    assert.equal(escapePointer('a~b/c'), 'a~0b~1c');
    const a = { metadata: { annotations: { 'x/y': '1' } } };
    const b = { metadata: { annotations: { 'x/y': '2', 'a~b/c': '3' } } };
    assert.deepEqual(apply(a, createPatch(a, b)), b);
  });

  test('a container inserted among named ones is one add; a changed one is patched in place', () => {
    const a = { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] };
    const b = { containers: [{ name: 'init', image: 'x' }, { name: 'a', image: '1' }, { name: 'b', image: '2' }] };
    const ops = createPatch(a, b);
    assert.deepEqual(ops, [
      { op: 'add', path: '/containers/0', value: { name: 'init', image: 'x' } },
      { op: 'replace', path: '/containers/2/image', value: '2' },
    ]);
    assert.deepEqual(apply(a, ops), b);
  });

  test('equal documents give no operations; a different root type is replaced', () => {
    assert.deepEqual(createPatch({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), []);
    assert.deepEqual(apply({ a: 1 }, createPatch({ a: 1 }, [1])), [1]);
  });

  const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 4 }), tie('array'), tie('object'), tie('named')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(fc.constantFrom('a', 'b', 'c/d', 'e~f', 'name'), tie('value'), { maxKeys: 4 }),
    named: fc.array(fc.record({ name: fc.constantFrom('x', 'y', 'z'), v: tie('value') }), { maxLength: 4 }),
  })).value;

  test('fuzz inject/json-patch: for any two JSON documents the patch applies and yields the second', async (t) => {
    // Through JSON text: documents as the webhook has them (fast-check also makes null-prototype objects).
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    await fuzz('inject/json-patch', fc.property(json.map(plain), json.map(plain), (a, b) => {
      assert.deepEqual(apply(a, createPatch(a, b)), b);
    }), 2000, t);
  });
});
