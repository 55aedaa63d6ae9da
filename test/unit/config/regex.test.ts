import { test } from 'node:test';
import assert from 'node:assert/strict';
import { re2FullMatch, re2ToRegExp } from '../../../src/config/regex.js';

test('re2ToRegExp translates RE2 inline flags and named groups', () => {
  assert.ok(re2ToRegExp('(?i)^/API/').test('/api/v1'));
  assert.ok(re2ToRegExp('(?s)a.b').test('a\nb'));
  assert.equal(re2ToRegExp('^/u/(?P<id>[0-9]+)$').exec('/u/42')?.groups?.['id'], '42');
  assert.equal(re2ToRegExp('^/api/v[0-9]+$').test('/api/vx'), false);
  assert.throws(() => re2ToRegExp('(unclosed'), SyntaxError);
});

test('what RE2 lacks is refused: backreferences and lookaround (the constructs V8 cannot run in linear time)', () => {
  for (const bad of ['(a)\\1', '(?<n>a)\\k<n>', '(?=a)a', '(?!a)b', '(?<=a)b', '(?<!a)b', '[]\\1']) {
    assert.throws(() => re2ToRegExp(bad), /not RE2/, bad);
    assert.throws(() => re2FullMatch(bad), /not RE2/, bad);
  }
  // Escaped, inside a class, or a named group: not backreferences or lookaround.
  for (const ok of ['\\\\1', '[\\1-9]', '[(?=]', '(?<name>a)', '(?P<name>a)', '(?:a)']) assert.doesNotThrow(() => re2ToRegExp(ok), ok);
});

test('re2FullMatch is Envoy\'s safe_regex: the whole input, inline flags honoured', () => {
  assert.equal(re2FullMatch('/a|/b').test('/b'), true);
  assert.equal(re2FullMatch('/a|/b').test('/bc'), false);
  assert.equal(re2FullMatch('(?i)/api/(?P<v>v[0-9])').exec('/API/V2')?.groups?.['v'], 'V2');
});
