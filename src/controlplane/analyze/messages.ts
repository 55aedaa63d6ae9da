/**
 * The Istio analyzer messages Trellis reports, with Istio's code, name, level
 * and wording (istio/istio pkg/config/analysis/msg/messages.yaml), so that
 * what `istioctl analyze` users search for and grep in logs carries over.
 */
import type { ConfigProblem } from '../sources/source.js';

export interface MessageType {
  readonly code: ConfigProblem['code'];
  readonly name: NonNullable<ConfigProblem['name']>;
  readonly severity: NonNullable<ConfigProblem['severity']>;
}

/** IST0101: "A resource being referenced does not exist." */
export const ReferencedResourceNotFound: MessageType = { code: 'IST0101', name: 'ReferencedResourceNotFound', severity: 'Error' };

/** Not an Istio message: valid Istio config that Trellis does not implement; the reason says what it does instead. */
export const Unsupported: MessageType = { code: 'CONFIG_UNSUPPORTED', name: 'Unsupported', severity: 'Warning' };

/** An IST0101 message with Istio's template, "Referenced %s not found: %q". */
export function referencedResourceNotFound(reftype: string, refval: string): { type: MessageType; message: string } {
  return { type: ReferencedResourceNotFound, message: `Referenced ${reftype} not found: ${goQuote(refval)}` };
}

const escapes: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's %q (strconv.Quote): printable characters as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (escapes[ch] !== undefined) out += escapes[ch];
    else if (printable.test(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}
