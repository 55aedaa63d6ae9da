/**
 * Bounds for text that came from outside (xDS peers, config files) before it
 * is logged, listed on a debug page or sent back in a gRPC status. A peer
 * controls how long such text is and what characters it holds; the reader of
 * a log must not have to care.
 */

/** The marker that replaces what was cut: the reader learns the original size. */
function marker(s: string): string {
  return `…(${Buffer.byteLength(s)} bytes)`;
}

/** Cut before a lone high surrogate so the result stays well-formed UTF-16. */
function cutAt(s: string, i: number): number {
  const c = s.charCodeAt(i - 1);
  return c >= 0xd800 && c <= 0xdbff ? i - 1 : i;
}

/** The first `max` characters of `s`, then "…(N bytes)" with the original UTF-8 size, when `s` is longer. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  return s.slice(0, cutAt(s, max)) + marker(s);
}

/**
 * Like clip, but keeps the end too: for messages like `field: "<value>" is
 * not valid (why)` whose explanation follows the quoted input.
 */
export function clipMiddle(s: string, max: number): string {
  if (s.length <= max) return s;
  const head = Math.ceil(max * 0.6);
  const tailFrom = cutAt(s, s.length - (max - head));
  return s.slice(0, cutAt(s, head)) + marker(s) + s.slice(tailFrom);
}

/**
 * C0 and C1 controls, DEL, the Unicode line and paragraph separators and the
 * bidirectional overrides: anything that can end a log line early, move the
 * cursor, recolour a terminal or make text read differently than it is stored.
 */
const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Replaces control characters with \uXXXX escapes, so a peer cannot forge or split log lines. */
export function escapeControls(s: string): string {
  return s.replace(controls, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
