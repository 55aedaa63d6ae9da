/** Envoy's StringMatcher and RegexMatcher, compiled once; errors carry field paths. */
import type { StringMatcher } from '../../gen/envoy/type/matcher/v3/string_pb.js';
import type { RegexMatcher } from '../../gen/envoy/type/matcher/v3/regex_pb.js';
import { re2FullMatch } from '../../config/regex.js';

export type StringPredicate = (v: string) => boolean;

/** RE2 full-match semantics with a JavaScript RegExp anchored at both ends (RE2 spellings translated, non-RE2 refused). */
export function compileRegex(re: RegexMatcher | undefined, path: string, errors: string[], flags = ''): RegExp | undefined {
  if (!re || re.regex === '') {
    errors.push(`${path}.regex: missing`);
    return undefined;
  }
  try {
    return re2FullMatch(re.regex, flags);
  } catch (err) {
    errors.push(`${path}.regex: invalid regex ${JSON.stringify(re.regex)}: ${(err as Error).message}`);
    return undefined;
  }
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
