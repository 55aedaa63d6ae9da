/**
 * Istio and Envoy regexes are RE2. JS RegExp accepts the common subset; the
 * two RE2 spellings JS lacks are translated: leading inline flags "(?i)" and
 * Python-style named groups "(?P<name>...)". No anchoring is added: Envoy's
 * safe_regex is a full match, which callers implement as they need.
 */
export function re2ToRegExp(source: string): RegExp {
  const m = /^\(\?([imsU]+)\)/.exec(source);
  const flags = m ? [...new Set(m[1]!.replace(/U/g, ''))].join('') : '';
  const body = (m ? source.slice(m[0].length) : source).replace(/\(\?P</g, '(?<');
  return new RegExp(body, flags);
}
