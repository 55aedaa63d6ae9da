/**
 * Istio and Envoy regexes are RE2. JS RegExp accepts the common subset; the
 * two RE2 spellings JS lacks are translated: leading inline flags "(?i)" and
 * Python-style named groups "(?P<name>...)".
 *
 * What JS has and RE2 does not — backreferences and lookaround — is refused:
 * Istio would refuse it, and these are exactly the constructs V8 cannot run
 * in linear time. Every other pattern can fall back to V8's linear engine
 * (the proxy enables that, see src/cli/proxy.ts), which matters because a
 * pattern from config is matched against paths and headers that any client
 * chooses: RE2's guarantee is linear time, and Envoy relies on it.
 */

/** Flags and body of an RE2 pattern in JS spelling. Throws SyntaxError for what RE2 (or JS) does not accept. */
function translate(source: string): { body: string; flags: string } {
  const m = /^\(\?([imsU]+)\)/.exec(source);
  const flags = m ? [...new Set(m[1]!.replace(/U/g, ''))].join('') : '';
  const body = (m ? source.slice(m[0].length) : source).replace(/\(\?P</g, '(?<');
  const bad = notRe2(body);
  if (bad !== undefined) throw new SyntaxError(`Invalid regular expression: /${source}/: ${bad} (not RE2)`);
  return { body, flags };
}

/** The first construct of `body` that RE2 lacks (backreference, lookaround), skipping escapes and character classes. */
function notRe2(body: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      const next = body[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) return `backreference \\${next}`;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      // Classes as JS reads them (it is what runs): "[]" is empty, not the start of a class holding "]".
      inClass = true;
    } else if (c === '(' && /^\(\?<?[=!]/.test(body.slice(i, i + 4))) {
      return `lookaround ${body.slice(i, i + (body[i + 2] === '<' ? 4 : 3))}`;
    }
  }
  return undefined;
}

/** An RE2 pattern as a JS RegExp, unanchored (callers that need Envoy's full match use re2FullMatch). */
export function re2ToRegExp(source: string, extraFlags = ''): RegExp {
  const { body, flags } = translate(source);
  return new RegExp(body, [...new Set(flags + extraFlags)].join(''));
}

/** Envoy's safe_regex semantics: the whole input must match. */
export function re2FullMatch(source: string, extraFlags = ''): RegExp {
  const { body, flags } = translate(source);
  const all = [...new Set(flags + extraFlags)].join('');
  // The body must stand on its own: "a)|(b" would otherwise close the wrapper's group and escape the anchors.
  new RegExp(body, all);
  return new RegExp(`^(?:${body})$`, all);
}
