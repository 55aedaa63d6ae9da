/**
 * Istio and Envoy regexes are RE2; here they run as JS RegExps, one
 * translation shared by config validation and the proxy. JS accepts the
 * common subset; the two RE2 spellings JS lacks are translated: leading
 * inline flags "(?i)" and Python-style named groups "(?P<name>...)".
 *
 * What JS has and RE2 does not is refused — backreferences, lookaround and
 * repetition counts above RE2's 1000: Istio and Envoy refuse them, and the
 * first two are exactly the constructs V8 cannot run in linear time. Every
 * other pattern can fall back to V8's linear engine (the proxy enables that,
 * src/proxy/router/regex-safety.ts), which matters because a pattern from config
 * is matched against paths and headers that any client chooses: RE2's
 * guarantee is linear time, and Envoy relies on it.
 */

/** RE2's largest repetition count (its parser rejects a{1001}). */
const RE2_REPEAT_MAX = 1000;

/** Flags and body of an RE2 pattern in JS spelling. Throws SyntaxError for what RE2 (or JS) does not accept. */
function translate(source: string): { body: string; flags: string } {
  const m = /^\(\?([imsU]+)\)/.exec(source);
  const flags = m ? [...new Set(m[1]!.replace(/U/g, ''))].join('') : '';
  const body = (m ? source.slice(m[0].length) : source).replace(/\(\?P</g, '(?<');
  const bad = notRe2(body);
  if (bad !== undefined) throw new SyntaxError(`${bad} is not RE2 syntax`);
  return { body, flags };
}

/**
 * The first construct of `body` that JS accepts and RE2 does not, or
 * undefined. Escapes and character classes are skipped: "[\1]" and "\(?="
 * are neither backreferences nor lookarounds.
 */
export function notRe2(body: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      const next = body[i + 1] ?? '';
      if (!inClass && next >= '1' && next <= '9') return `the backreference \\${next}`;
      if (!inClass && next === 'k' && body[i + 2] === '<') return 'the named backreference \\k<…>';
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      // Classes as JS reads them (it is what runs): "[]" is empty, not the start of a class holding "]".
      inClass = true;
    } else if (c === '{') {
      const r = /^\{(\d+)(,(\d*))?\}/.exec(body.slice(i, i + 24));
      if (r && (Number(r[1]) > RE2_REPEAT_MAX || Number(r[3] || 0) > RE2_REPEAT_MAX)) return `the repetition ${r[0]} (RE2 allows at most {${RE2_REPEAT_MAX}})`;
    } else if (c === '(' && body[i + 1] === '?') {
      const rest = body.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!')) return `the lookahead (?${rest[0]}…)`;
      if (rest === '<=' || rest === '<!') return `the lookbehind (?${rest}…)`;
    }
  }
  return undefined;
}

/**
 * V8 compiles a RegExp when it first runs and tiers it up to native code on
 * the next run: a pattern too large for either throws then — on a request,
 * unless it runs here first.
 */
function warmed(re: RegExp): RegExp {
  re.test('');
  re.test('');
  re.lastIndex = 0;
  return re;
}

/** An RE2 pattern as a JS RegExp, unanchored (callers that need Envoy's full match use re2FullMatch). */
export function re2ToRegExp(source: string, extraFlags = ''): RegExp {
  const { body, flags } = translate(source);
  return warmed(new RegExp(body, [...new Set(flags + extraFlags)].join('')));
}

/** Envoy's safe_regex semantics: the whole input must match. */
export function re2FullMatch(source: string, extraFlags = ''): RegExp {
  const { body, flags } = translate(source);
  const all = [...new Set(flags + extraFlags)].join('');
  // The body must stand on its own: "a)|(b" would otherwise close the wrapper's group and escape the anchors.
  new RegExp(body, all);
  return warmed(new RegExp(`^(?:${body})$`, all));
}
