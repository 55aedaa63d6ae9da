/** Envoy's StringMatcher and RegexMatcher, compiled once; errors carry field paths. */
import { clip, clipMiddle } from '../../clip.js';
import type { StringMatcher } from '../../gen/envoy/type/matcher/v3/string_pb.js';
import type { RegexMatcher } from '../../gen/envoy/type/matcher/v3/regex_pb.js';
import { re2FullMatch, re2ToRegExp } from '../../config/regex.js';

export type StringPredicate = (v: string) => boolean;

/**
 * A safe_regex pattern as a JavaScript RegExp, or an error at `path`: RE2
 * constructs only (src/config/regex.ts); `anchored` gives RE2's full-match
 * semantics. Errors quote at most the pattern's first 200 characters: a NACK
 * detail must not carry a megabyte of config back.
 */
export function compileRe2(pattern: string, path: string, errors: string[], opts: { anchored: boolean; flags?: string }): RegExp | undefined {
  try {
    return opts.anchored ? re2FullMatch(pattern, opts.flags) : re2ToRegExp(pattern, opts.flags);
  } catch (err) {
    // V8's message repeats the whole pattern before the reason.
    errors.push(`${path}: invalid regex ${JSON.stringify(clip(pattern, 200))}: ${clipMiddle((err as Error).message, 300)}`);
    return undefined;
  }
}

/** Envoy's RegexMatcher: RE2 full-match semantics with a JavaScript RegExp anchored at both ends. */
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
