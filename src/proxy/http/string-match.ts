/** Envoy's StringMatcher and RegexMatcher, compiled once; errors carry field paths. */
import { clip, clipMiddle } from '../../clip.js';
import type { StringMatcher } from '../../gen/envoy/type/matcher/v3/string_pb.js';
import type { RegexMatcher } from '../../gen/envoy/type/matcher/v3/regex_pb.js';
import { nonRe2Construct } from './regex-safety.js';

export type StringPredicate = (v: string) => boolean;

/**
 * A safe_regex pattern as a JavaScript RegExp, or an error at `path`: RE2
 * constructs only (see regex-safety.ts); `anchored` wraps it for RE2's
 * full-match semantics. Errors quote at most the pattern's first 200
 * characters: a NACK detail must not carry a megabyte of config back.
 */
export function compileRe2(pattern: string, path: string, errors: string[], opts: { anchored: boolean; flags?: string }): RegExp | undefined {
  const quoted = JSON.stringify(clip(pattern, 200));
  const unsupported = nonRe2Construct(pattern);
  if (unsupported) {
    errors.push(`${path}: invalid regex ${quoted}: ${unsupported} is not RE2 syntax`);
    return undefined;
  }
  try {
    const re = new RegExp(opts.anchored ? `^(?:${pattern})$` : pattern, opts.flags ?? '');
    // V8 compiles a RegExp when it first runs it, and tiers it up to native code on the next run: a pattern
    // too large for either throws then, on a request, unless it runs here first.
    re.test('');
    re.test('');
    re.lastIndex = 0;
    return re;
  } catch (err) {
    // V8's message repeats the whole pattern before the reason.
    errors.push(`${path}: invalid regex ${quoted}: ${clipMiddle((err as Error).message, 300)}`);
    return undefined;
  }
}

/** RE2 full-match semantics approximated with a JavaScript RegExp anchored at both ends. */
export function compileRegex(re: RegexMatcher | undefined, path: string, errors: string[], flags = ''): RegExp | undefined {
  if (!re || re.regex === '') {
    errors.push(`${path}.regex: missing`);
    return undefined;
  }
  return compileRe2(re.regex, `${path}.regex`, errors, { anchored: true, flags });
}

export function compileStringMatcher(m: StringMatcher | undefined, path: string, errors: string[]): StringPredicate {
  const never: StringPredicate = () => false;
  if (!m) {
    errors.push(`${path}: missing`);
    return never;
  }
  const ic = m.ignoreCase;
  const norm = (s: string) => (ic ? s.toLowerCase() : s);
  const p = m.matchPattern;
  switch (p.case) {
    case 'exact': { const x = norm(p.value); return (v) => norm(v) === x; }
    case 'prefix': { const x = norm(p.value); return (v) => norm(v).startsWith(x); }
    case 'suffix': { const x = norm(p.value); return (v) => norm(v).endsWith(x); }
    case 'contains': { const x = norm(p.value); return (v) => norm(v).includes(x); }
    case 'safeRegex': {
      const re = compileRegex(p.value, `${path}.safeRegex`, errors);
      return re ? (v) => re.test(v) : never;
    }
    default:
      errors.push(`${path}.matchPattern: unsupported or missing (${p.case ?? 'unset'})`);
      return never;
  }
}
