/**
 * Envoy's safe_regex is RE2: linear-time matching, whatever the pattern and
 * the input. JavaScript's RegExp backtracks: "(a+)+" against 30 "a" and a
 * "!" ran for over ten seconds here, on the proxy's only event loop. Two
 * measures bring a safe_regex close to RE2's guarantee:
 *
 * - what RE2 rejects, the proxy rejects too (NACK, as Envoy does):
 *   backreferences and lookaround, the constructs no linear engine can run,
 *   and repetition counts above 1000 (src/config/regex.ts);
 * - the proxy process lets V8 switch a regex to its linear-time engine after
 *   50,000 backtracks (V8's --enable-experimental-regexp-engine-on-excessive-backtracks;
 *   measured: the pattern above drops from ~10 s to ~2 ms).
 *
 * What remains: V8's linear engine refuses case-insensitive patterns and
 * counted repetitions above 16 ("(x+x+){20}"), so such a pattern can still
 * backtrack for long. RE2 itself (a native module) would close that;
 * docs/ARCHITECTURE.md says why not yet.
 */
import { setFlagsFromString } from 'node:v8';

let bounded = false;

/** Turns on V8's fallback to its linear-time engine; call before any request path regex runs. Idempotent. */
export function boundRegexBacktracking(): void {
  if (bounded) return;
  bounded = true;
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
}
