import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notRe2 } from '../../../src/config/regex.js';
import { compileRe2 } from '../../../src/proxy/router/string-match.js';

test('constructs RE2 rejects are found; escapes and classes are not mistaken for them', () => {
  const found: [string, string | undefined][] = [
    ['(a)\\1', 'the backreference \\1'],
    ['(?<n>a)\\k<n>', 'the named backreference \\k<…>'],
    ['a(?=b)', 'the lookahead (?=…)'],
    ['a(?!b)', 'the lookahead (?!…)'],
    ['(?<=a)b', 'the lookbehind (?<=…)'],
    ['(?<!a)b', 'the lookbehind (?<!…)'],
    ['a{1001}', 'the repetition {1001} (RE2 allows at most {1000})'],
    ['a{2,5000}', 'the repetition {2,5000} (RE2 allows at most {1000})'],
    ['a{1000}[{9999}]\\{9999}', undefined],
    ['[\\1]x', undefined],
    ['\\\\1', undefined],
    ['\\(?=a', undefined],
    ['[(?=]a', undefined],
    ['(?<name>a)(?:b)(?P<x>c)', undefined],
    ['/api/v[0-9]+/.*', undefined],
  ];
  for (const [pattern, want] of found) assert.equal(notRe2(pattern), want, pattern);
});

test('compileRe2: full match when anchored; errors quote at most 200 characters of the pattern', () => {
  const errors: string[] = [];
  const re = compileRe2('/r/[a-z]+', 'p', errors, { anchored: true });
  assert.ok(re?.test('/r/abc') && !re.test('/r/abc/'));
  compileRe2(`(${'x'.repeat(100_000)}`, 'route.regex', errors, { anchored: true });
  compileRe2(`${'y'.repeat(100_000)}(?=z)`, 'route.regex', errors, { anchored: false });
  // V8 compiles on first use: found here, not on the first request (fuzz: "Regular expression too large").
  compileRe2('a'.repeat(40_000), 'route.regex', errors, { anchored: true });
  assert.equal(errors.length, 3);
  for (const e of errors) assert.ok(e.length < 700, `${e.length} characters`);
  assert.match(errors[0]!, /^route\.regex: invalid regex "\(x+…\(100001 bytes\)": .*Unterminated group$/);
  assert.match(errors[1]!, /^route\.regex: invalid regex "y+…\(100005 bytes\)": the lookahead \(\?=…\) is not RE2 syntax$/);
  assert.match(errors[2]!, /^route\.regex: invalid regex "a+…\(40000 bytes\)": .*Regular expression too large$/);
});
