/**
 * Fuzz target: the values inside Istio documents that have their own syntax —
 * Go durations (src/config/duration.ts) and RE2 regexes (src/config/regex.ts)
 * — on arbitrary strings: a result or the documented error type, never
 * another exception, never a hang.
 *
 * A regex accepted from config is later matched by the proxy against paths
 * and headers that clients choose, so "never a hang" reaches further: every
 * accepted pattern must be one V8's linear-time engine can run (the proxy
 * falls back to it on excessive backtracking, src/cli/proxy.ts), and that
 * engine must answer as the backtracking one does. Both are checked here with
 * the engine's `l` flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { fuzz } from './harness.js';
import { durationMs, parseDuration } from '../../src/config/duration.js';
import { re2FullMatch, re2ToRegExp } from '../../src/config/regex.js';
import { regexProblem } from '../../src/config/validate/common.js';

// Lets this process build RegExps with the `l` (linear engine) flag; it changes nothing else.
setFlagsFromString('--enable-experimental-regexp-engine');

// ---- durations ----------------------------------------------------------------

const durationUnits = ['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h'] as const;
const durationNumber = fc.oneof(fc.nat({ max: 100_000 }).map(String), fc.tuple(fc.nat(999), fc.nat(999)).map(([a, b]) => `${a}.${b}`), fc.nat(999).map((b) => `.${b}`), fc.nat(99).map((a) => `${a}.`));
const durationPart = fc.tuple(durationNumber, fc.constantFrom(...durationUnits)).map(([n, u]) => n + u);
const durationish = fc.array(fc.oneof(durationPart, fc.constantFrom('-', '+', ' ', 'e', '1e309', '9'.repeat(400), 'd', '0', '.', 'µ', 'sec')), { maxLength: 8 }).map((p) => p.join(''));

test('fuzz config-values/duration: a number of milliseconds or undefined for any string; durationMs throws RangeError only', async (t) => {
  await fuzz(
    'config-values/duration',
    fc.property(fc.oneof(durationish, fc.string({ unit: 'binary', maxLength: 64 }), fc.string({ maxLength: 2000 })), (s) => {
      const ms = parseDuration(s);
      assert.ok(ms === undefined || (Number.isFinite(ms) && ms >= 0), `${JSON.stringify(s)} → ${ms}`);
      try {
        assert.equal(durationMs(s), ms);
      } catch (err) {
        assert.ok(ms === undefined && err instanceof RangeError, `${JSON.stringify(s)}: ${String(err)}`);
      }
    }),
    10000,
    t,
  );
});

test('fuzz config-values/duration-sum: a duration of several parts is the sum of its parts; units relate as Go defines them', async (t) => {
  await fuzz(
    'config-values/duration-sum',
    fc.property(fc.array(durationPart, { minLength: 1, maxLength: 5 }), fc.nat(100_000), (parts, n) => {
      const whole = parseDuration(parts.join(''));
      const sum = parts.reduce((acc, p) => acc + parseDuration(p)!, 0);
      assert.equal(whole, sum, parts.join(''));
      assert.equal(parseDuration(`${n}h`), parseDuration(`${n * 60}m`));
      assert.equal(parseDuration(`${n}m`), parseDuration(`${n * 60}s`));
      assert.equal(parseDuration(`${n}s`), parseDuration(`${n * 1000}ms`));
      assert.equal(parseDuration(`${n}us`), parseDuration(`${n}µs`));
    }),
    5000,
    t,
  );
});

// ---- regexes ------------------------------------------------------------------

const regexTokens = [
  'a', 'b', '/', '-', '.', '*', '+', '?', '*?', '+?', '|', '(', ')', '(?:', '(?P<n>', '(?<m>', '[', ']', '[^', '^', '$',
  '\\d', '\\w', '\\s', '\\b', '\\.', '\\\\', '\\/', '(?s)', '(?U)', '(?m)', '(?sm)',
  // Not RE2: must be refused, never reach the proxy.
  '\\1', '\\k<n>', '(?=', '(?!', '(?<=', '(?<!',
];
/**
 * Valid RE2 that V8's linear engine does not take (known limits, see
 * docs/ARCHITECTURE.md): case-insensitive matching, and counted repetition
 * once the counts of nested repetitions multiply past 16 ("(a{8}){3}").
 * Such patterns still backtrack in the proxy.
 */
const beyondLinear = ['{2}', '{1,3}', '{2,}', '{16}', '{1,200}', '{1000}', '(?i)', '(?im)'];
const regexish = (tokens: readonly string[]) => fc.array(fc.constantFrom(...tokens), { maxLength: 14 }).map((p) => p.join(''));

function compiles(f: () => RegExp): RegExp | SyntaxError {
  try {
    return f();
  } catch (err) {
    if (err instanceof SyntaxError) return err;
    throw err;
  }
}

test('fuzz config-values/regex: a RegExp or a SyntaxError for any string; validation and the proxy agree on what compiles', async (t) => {
  await fuzz(
    'config-values/regex',
    fc.property(fc.oneof(regexish([...regexTokens, ...beyondLinear]), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })), (s) => {
      const loose = compiles(() => re2ToRegExp(s));
      const full = compiles(() => re2FullMatch(s));
      assert.equal(loose instanceof RegExp, full instanceof RegExp, `${JSON.stringify(s)}: ${String(loose)} / ${String(full)}`);
      assert.equal(regexProblem(s) === undefined, loose instanceof RegExp);
    }),
    10000,
    t,
  );
});

test('fuzz config-values/regex-linear: every accepted pattern runs on V8\'s linear engine, with the backtracking engine\'s answers', async (t) => {
  const input = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '/', '-', '0', '.', '\n', '_'), maxLength: 10 });
  await fuzz(
    'config-values/regex-linear',
    fc.property(regexish(regexTokens), fc.array(input, { minLength: 1, maxLength: 4 }), (s, inputs) => {
      const re = compiles(() => re2FullMatch(s));
      if (!(re instanceof RegExp)) return;
      const linear = compiles(() => new RegExp(re.source, `${re.flags}l`));
      assert.ok(linear instanceof RegExp, `accepted ${JSON.stringify(s)} cannot run in linear time: ${String(linear)}`);
      for (const v of inputs) assert.equal(linear.test(v), re.test(v), `${JSON.stringify(s)} on ${JSON.stringify(v)}`);
    }),
    8000,
    t,
  );
});

// Cases the fuzzer found, kept as named regressions.

test('regression: a pattern that closes a group it did not open cannot escape the full-match anchors', () => {
  for (const s of [')(?<m>', 'a)|(b', '/admin)|(.*']) {
    assert.throws(() => re2FullMatch(s), SyntaxError, s);
    assert.notEqual(regexProblem(s), undefined, s);
  }
});
