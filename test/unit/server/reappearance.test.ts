import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReappearanceMemo } from '../../../src/controlplane/server/reappearance.js';
import { CDS, EDS, LDS, RDS } from '../../integration/ads/fake-generator.js';
import { mesh } from '../../integration/ads/greeter-mesh.js';
import type { ResourceSet } from '../../../src/controlplane/wire/resource.js';

const greeter = mesh(50051).default!;
const setOf = (type: string): ResourceSet => new Map(greeter[type as keyof typeof greeter]!.map((r) => [r.name, r]));

describe('ReappearanceMemo', () => {
  test('only LDS and CDS are respelled (RDS/EDS omissions mean nothing in SotW)', () => {
    const memo = new ReappearanceMemo();
    const r = memo.forNode('n');
    for (const type of [LDS, CDS, RDS, EDS]) r.removed(type, [...setOf(type).keys()]);
    for (const type of [RDS, EDS]) {
      const set = setOf(type);
      assert.equal(r.spell(type, set), set, 'the same set object: nothing changed');
    }
    const lds = setOf(LDS);
    assert.notEqual(r.spell(LDS, lds).get('greeter'), lds.get('greeter'));
  });

  test('a node without removals gets its sets untouched, and other nodes do not share a node memory', () => {
    const memo = new ReappearanceMemo();
    memo.forNode('a').removed(LDS, ['greeter']);
    const lds = setOf(LDS);
    assert.equal(memo.forNode('b').spell(LDS, lds), lds);
    assert.notEqual(memo.forNode('a').spell(LDS, lds), lds);
  });

  test('bounded: the least recently touched node is forgotten first', () => {
    const memo = new ReappearanceMemo(2);
    memo.forNode('n1').removed(LDS, ['greeter']);
    memo.forNode('n2').removed(LDS, ['greeter']);
    memo.forNode('n1').removed(LDS, ['greeter']);
    memo.forNode('n3').removed(LDS, ['greeter']);
    const lds = setOf(LDS);
    assert.equal(memo.forNode('n2').spell(LDS, lds), lds, 'n2 was forgotten');
    assert.notEqual(memo.forNode('n1').spell(LDS, lds), lds);
    assert.notEqual(memo.forNode('n3').spell(LDS, lds), lds);
  });
});
