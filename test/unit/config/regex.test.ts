import { test } from 'node:test';
import assert from 'node:assert/strict';
import { re2ToRegExp } from '../../../src/config/regex.js';

test('re2ToRegExp translates RE2 inline flags and named groups', () => {
  assert.ok(re2ToRegExp('(?i)^/API/').test('/api/v1'));
  assert.ok(re2ToRegExp('(?s)a.b').test('a\nb'));
  assert.equal(re2ToRegExp('^/u/(?P<id>[0-9]+)$').exec('/u/42')?.groups?.['id'], '42');
  assert.equal(re2ToRegExp('^/api/v[0-9]+$').test('/api/vx'), false);
  assert.throws(() => re2ToRegExp('(unclosed'), SyntaxError);
});
