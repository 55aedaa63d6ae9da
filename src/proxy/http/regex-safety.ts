/**
 * Envoy's safe_regex is RE2: linear-time matching, whatever the pattern and
 * the input. JavaScript's RegExp backtracks: "(a+)+" against 30 "a" and a
 * "!" ran for over ten seconds here, on the proxy's only event loop. Two
 * measures bring a safe_regex close to RE2's guarantee:
 *
 * - what RE2 rejects, the proxy rejects too (NACK, as Envoy does):
 *   backreferences and lookaround, the constructs no linear engine can run,
 *   and repetition counts above 1000;
 * - the proxy process lets V8 switch a regex to its linear-time engine after
 *   50,000 backtracks (V8's --enable-experimental-regexp-engine-on-excessive-backtracks;
 *   measured: the pattern above drops from ~10 s to ~2 ms).
 *
 * What remains: V8's linear engine refuses counted repetitions above 16
 * ("(x+x+){20}"), so such a pattern can still backtrack for long. RE2 itself
 * (a native module) would close that; docs/ARCHITECTURE.md says why not yet.
 */
import { setFlagsFromString } from 'node:v8';

let bounded = false;

/** RE2's largest repetition count (its parser rejects a{1001}). */
const RE2_REPEAT_MAX = 1000;

/** Turns on V8's fallback to its linear-time engine; call before any request path regex runs. Idempotent. */
export function boundRegexBacktracking(): void {
  if (bounded) return;
  bounded = true;
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
}

/**
 * The first construct of `pattern` that JavaScript accepts and RE2 does not
 * (a backreference, a lookaround, a repetition count above 1000), or undefined. Escapes and character
 * classes are skipped: "[\1]" and "\(?=" are not lookarounds.
 */
export function nonRe2Construct(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (!inClass && n >= '1' && n <= '9') return `the backreference \\${n}`;
      if (!inClass && n === 'k' && pattern[i + 2] === '<') return 'the named backreference \\k<…>';
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
      if (m && (Number(m[1]) > RE2_REPEAT_MAX || Number(m[3] || 0) > RE2_REPEAT_MAX)) return `the repetition ${m[0]} (RE2 allows at most {${RE2_REPEAT_MAX}})`;
    } else if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!')) return `the lookahead (?${rest[0]}…)`;
      if (rest === '<=' || rest === '<!') return `the lookbehind (?${rest}…)`;
    }
  }
  return undefined;
}
