import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clip, clipMiddle, escapeControls } from '../../../src/clip.js';
import { LOG_LINE_MAX, LOG_TEXT_MAX, logger } from '../../../src/log.js';

/** What one log call writes to stderr. */
function captured(fn: () => void): string {
  const original = process.stderr.write;
  let out = '';
  process.stderr.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = original;
  }
  return out;
}

const log = logger('bounds-test');

test('a huge message or field is cut to LOG_TEXT_MAX characters with the original size', () => {
  const out = captured(() => log.warn('m'.repeat(300_000), { type: 't'.repeat(100_000), names: Array.from({ length: 50_000 }, (_, i) => `n${i}`) }));
  assert.equal(out.split('\n').length, 2, 'one line');
  assert.ok(out.length < 4 * LOG_TEXT_MAX, `${out.length} characters`);
  assert.ok(out.includes(`${'m'.repeat(LOG_TEXT_MAX)}…(300000 bytes) `));
  assert.ok(out.includes(` type="${'t'.repeat(LOG_TEXT_MAX)}…(100000 bytes)"`), 'a cut string field stays a JSON string');
  assert.match(out, / names=\["n0","n1",.*…\(\d+ bytes\)\n$/);
});

test('control characters cannot end the line, move the cursor or reorder text', () => {
  const hostile = 'a\nFAKE 2026-01-01 info xds ok\r\u001b[2K\u0085\u2028\u202eb';
  const out = captured(() => log.info(hostile, { id: hostile, nested: { id: hostile } }));
  assert.equal(out.indexOf('\n'), out.length - 1, 'the only newline ends the line');
  assert.ok(!/[\r\u001b\u0085\u2028\u202e]/.test(out), JSON.stringify(out));
  assert.ok(out.includes('a\\u000aFAKE'), 'the message shows the escape');
  assert.ok(out.includes('id="a\\nFAKE'), 'fields keep JSON escapes');
  assert.ok(out.includes('\\u2028\\u202eb'));
});

test('a line is never longer than LOG_LINE_MAX, however many fields and escapes', () => {
  const c1 = '\u0085'.repeat(5_000);
  const fields = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, c1]));
  const out = captured(() => log.warn(c1, fields));
  assert.equal(out.indexOf('\n'), out.length - 1);
  assert.ok(out.length <= LOG_LINE_MAX + 30, `${out.length} characters`);
  assert.match(out, /…\(\d+ bytes\)\n$/);
});

test('values JSON cannot write (BigInt, cycles) are logged instead of throwing', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const out = captured(() => log.error('x', { big: 10n, cyclic, none: undefined }));
  assert.match(out, / big=10 cyclic=\[object Object\] none=undefined\n$/);
});

test('clip, clipMiddle: unchanged when short; never split a surrogate pair', () => {
  assert.equal(clip('abc', 3), 'abc');
  assert.equal(clip('abcd', 3), 'abc…(4 bytes)');
  assert.equal(clip('ab😀cd', 3), 'ab…(8 bytes)', 'the pair is dropped whole');
  assert.equal(clipMiddle('abcdefghij', 5), 'abc…(10 bytes)ij');
  assert.equal(clipMiddle('abc', 5), 'abc');
  assert.equal(escapeControls('tab\there'), 'tab\\u0009here');
});
